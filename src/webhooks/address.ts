/**
 * Where a webhook may connect. A URL is operator input, but a mistaken or planted one would turn the
 * dispatcher into a way to POST into the network mailgate sits in (SSRF): the loopback admin port, the cloud
 * metadata service, a router. So only public unicast addresses are allowed, unless the endpoint says
 * `allow_private_network: true`; a few addresses stay refused even then. The same check runs on the URL's
 * host at registration and on every address its name resolves to at delivery (see dispatcher.ts).
 */
import ipaddr from 'ipaddr.js';

/**
 * Never a receiver, whatever the endpoint allows: the cloud metadata services (credentials for the taking),
 * and addresses that are not one host (0.0.0.0 reaches this host's own ports on Linux; multicast, broadcast).
 */
const METADATA = new Set(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200']);
const NEVER_RANGES = new Set(['unspecified', 'multicast', 'broadcast']);

/** Names that are this host by definition (RFC 6761 §6.3), and metadata services' names: refused before any lookup. */
const LOCAL_NAME = /^(?:localhost|.+\.localhost)$/;
const METADATA_NAME = /^(?:metadata\.google\.internal|metadata\.goog|metadata)$/;

export type AddressVerdict =
  | { ok: true }
  /** `private`: allowed with allow_private_network; `never`: refused even then. */
  | { ok: false; severity: 'private' | 'never'; why: string };

/** Checks one IP address (v4 or v6, as dns.lookup or the URL parser gives it). */
export function checkAddress(ip: string): AddressVerdict {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.parse(ip.replace(/^\[|\]$/g, ''));
  } catch {
    return { ok: false, severity: 'never', why: `${ip} is not an IP address` };
  }
  const v4 = embeddedIPv4(addr);
  if (v4) {
    const inner = checkAddress(v4.toString());
    return inner.ok ? inner : { ...inner, why: `${addr.toString()} embeds ${inner.why}` };
  }
  const text = addr.toString();
  if (METADATA.has(text)) return { ok: false, severity: 'never', why: `${text} (a cloud metadata service)` };
  const range = addr.range();
  if (range === 'unicast') return { ok: true };
  if (NEVER_RANGES.has(range)) return { ok: false, severity: 'never', why: `${text} (${describe(range)})` };
  return { ok: false, severity: 'private', why: `${text} (${describe(range)})` };
}

/**
 * The IPv4 address inside an IPv6 one that carries it (IPv4-mapped ::ffff:a.b.c.d, the deprecated IPv4-
 * compatible ::a.b.c.d, SIIT ::ffff:0:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002:aabb:ccdd::), or null. Such an
 * address reaches the IPv4 host, so the IPv4 host is what is judged.
 */
function embeddedIPv4(addr: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | null {
  if (addr.kind() !== 'ipv6') return null;
  const v6 = addr as ipaddr.IPv6;
  const p = v6.parts;
  const low = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  const range = v6.range();
  if (range === 'ipv4Mapped' || range === 'rfc6145' || range === 'rfc6052') return low(p[6]!, p[7]!);
  if (range === '6to4') return low(p[1]!, p[2]!);
  // ::a.b.c.d, but not :: (unspecified) and ::1 (loopback), which are judged as themselves.
  if (p.slice(0, 6).every((x) => x === 0) && (p[6] !== 0 || p[7]! > 1)) return low(p[6]!, p[7]!);
  return null;
}

const RANGE_NAMES: Record<string, string> = {
  loopback: 'loopback',
  private: 'a private network (RFC 1918)',
  linkLocal: 'link-local',
  carrierGradeNat: 'carrier-grade NAT',
  uniqueLocal: 'a unique-local network',
  unspecified: 'the unspecified address',
  multicast: 'multicast',
  broadcast: 'broadcast',
  reserved: 'a reserved range',
  teredo: 'a Teredo tunnel',
  deprecatedSiteLocal: 'site-local',
};
const describe = (range: string) => RANGE_NAMES[range] ?? `special-purpose range ${range}`;

/**
 * The verdict on a URL's host, or null for a name, which is judged by its resolved addresses at delivery
 * (except names that are local by definition). `hostname` is the WHATWG-parsed one (`new URL(u).hostname`),
 * so decimal, hex, octal and shortened IPv4 forms (http://2130706433/, http://0x7f.1/) arrive as dotted quads.
 */
export function checkHost(hostname: string): AddressVerdict | null {
  const host = hostname.replace(/\.$/, '').toLowerCase();
  const ip = ipLiteral(host);
  if (ip) return checkAddress(ip);
  if (METADATA_NAME.test(host)) return { ok: false, severity: 'never', why: `${host} (a cloud metadata service)` };
  if (LOCAL_NAME.test(host)) return { ok: false, severity: 'private', why: `${host} (this host: loopback)` };
  return null;
}

/** The IP address a WHATWG-parsed hostname is (brackets removed), or null for a name. */
export function ipLiteral(hostname: string): string | null {
  const host = hostname.replace(/\.$/, '');
  if (host.startsWith('[') && host.endsWith(']')) return host.slice(1, -1);
  return ipaddr.IPv4.isValidFourPartDecimal(host) ? host : null;
}

/** What to tell the operator when a verdict refuses, given the endpoint's allow_private_network; null: allowed. */
export function refusal(v: AddressVerdict | null, allowPrivate: boolean): string | null {
  if (!v || v.ok || (v.severity === 'private' && allowPrivate)) return null;
  if (v.severity === 'never') return `${v.why}, where webhooks are never sent; use the receiver's own address`;
  return (
    `${v.why}; webhooks go only to public addresses unless the endpoint sets allow_private_network: true ` +
    '(CLI: --allow-private-network) for a receiver on your own network'
  );
}
