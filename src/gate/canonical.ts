/**
 * Canonical forms of addresses and domains for the policy rules (suppression, allowed and blocked domains,
 * external domains). A rule written as `Bücher.example.` and a recipient written as `X@XN--BCHER-KVA.EXAMPLE`
 * must meet in one form, or the list can be dodged: so both sides are canonicalised the same way here.
 *
 *   domain:  Unicode NFKC (full-width and compatibility characters fold), IDNA to punycode (UTS #46, as
 *            WHATWG URL does: lower case, mapped characters), one trailing dot removed.
 *   address: local part NFKC and lower case (providers treat it case-insensitively in practice), domain as above.
 */
import { domainToASCII } from 'node:url';

/** The canonical domain, or '' when the input cannot be a domain at all. */
export function canonicalDomain(domain: string): string {
  const folded = domain.normalize('NFKC').trim().replace(/\.+$/, '');
  if (!folded) return '';
  return domainToASCII(folded).replace(/\.$/, '');
}

export function canonicalEmail(address: string): string {
  const a = address.normalize('NFKC').trim();
  const at = a.lastIndexOf('@');
  if (at < 0) return a.toLowerCase();
  return `${a.slice(0, at).toLowerCase()}@${canonicalDomain(a.slice(at + 1))}`;
}

export function domainOf(address: string): string {
  return canonicalDomain(address.slice(address.lastIndexOf('@') + 1));
}

/** `name+tag@d` -> `name@d`: a suppression of a person covers their sub-addresses (RFC 5233). */
export function withoutSubaddress(address: string): string {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const plus = local.indexOf('+');
  return plus > 0 ? `${local.slice(0, plus)}${address.slice(at)}` : address;
}

/** `a.b.example.com` -> [`a.b.example.com`, `b.example.com`, `example.com`, `com`]: a domain entry covers subdomains. */
export function domainAndParents(domain: string): string[] {
  const labels = domain.split('.');
  return labels.map((_, i) => labels.slice(i).join('.')).filter(Boolean);
}

/** Every suppression key a recipient is looked up under: the address, without sub-address, and each parent domain. */
export function suppressionKeys(recipient: string): { addresses: string[]; domains: string[] } {
  const address = canonicalEmail(recipient);
  return { addresses: [...new Set([address, withoutSubaddress(address)])], domains: domainAndParents(domainOf(address)) };
}

/** `name@example.com` is an address, anything else a domain; both canonicalised (src/gate/canonical.ts). */
export function parseSuppressionEntry(entry: string): { kind: 'address' | 'domain'; value: string } | null {
  const e = entry.trim();
  if (e.includes('@')) {
    const value = canonicalEmail(e);
    return /^[^@\s]+@[^@\s]+\.[^@\s]+$|^[^@\s]+@[^@\s.]+$/.test(value) && !value.endsWith('@') ? { kind: 'address', value } : null;
  }
  const value = canonicalDomain(e.replace(/^\*\./, ''));
  return value && /^[a-z0-9.-]+$/.test(value) ? { kind: 'domain', value } : null;
}
