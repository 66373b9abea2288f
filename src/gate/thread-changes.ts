/**
 * What a reply changes against the thread it answers, for the reviewer: recipients who were not in the thread,
 * link domains the thread never used, links whose visible text names another domain than they go to, and
 * account numbers (src/gate/account-numbers.ts) the thread does not contain. A routine-looking reply that
 * swaps the IBAN or the payment link is the fraud this surfaces ("our bank details have changed").
 *
 * Pure: the caller gathers the thread. Without a thread (not a reply) only link text/target mismatches can be
 * judged; nothing is "new" without something to compare with.
 */
import { createRequire } from 'node:module';
import type { Parser as HtmlParser } from 'htmlparser2';
import type LinkifyIt from 'linkify-it';
import { appearsIn, findAccountNumbers, type AccountKind, squash } from './account-numbers.js';
import { canonicalDomain, canonicalEmail, domainOf } from './canonical.js';

export const THREAD_CHANGE_KINDS = [
  'new_iban',
  'new_card_number',
  'new_routing_number',
  'new_bic',
  'new_account_number',
  'link_text_mismatch',
  'new_recipient',
  'new_link_domain',
] as const;
export type ThreadChangeKind = (typeof THREAD_CHANGE_KINDS)[number];

export type ThreadChangeWhere = 'to' | 'cc' | 'bcc' | 'subject' | 'text' | 'html';

export interface ThreadChange {
  kind: ThreadChangeKind;
  /** The address, the domain (punycode), the normalised number, or for a mismatch `shown -> target`. */
  value: string;
  where: ThreadChangeWhere;
}

/** One message: the draft under review, or one message of its thread. */
export interface ThreadPart {
  from?: string | null | undefined;
  to: readonly string[];
  cc: readonly string[];
  bcc?: readonly string[] | undefined;
  subject: string;
  text: string | null;
  html: string | null;
}

const ACCOUNT_KIND: Record<AccountKind, ThreadChangeKind> = {
  iban: 'new_iban',
  card: 'new_card_number',
  routing: 'new_routing_number',
  bic: 'new_bic',
  account: 'new_account_number',
};

// The parser and the link finder are required on first use (their CommonJS builds): with the TLD list they
// are ~20 modules and a few milliseconds that a server starting up does not need.
const load = createRequire(import.meta.url);
let linkifier: LinkifyIt | undefined;

function linkify(): LinkifyIt {
  if (linkifier) return linkifier;
  // Every delegated TLD (a fraud domain is as likely .online as .com), and the reserved ones (RFC 2606) that
  // tests and sandboxes use. The list is JSON, which an ES module cannot import without import attributes.
  const tlds = [...(load('tlds') as string[]), 'example', 'test', 'invalid'];
  const LinkifyItClass = load('linkify-it') as typeof LinkifyIt;
  linkifier = new LinkifyItClass().tlds(tlds, false);
  return linkifier;
}

interface HtmlParts {
  /** The text a reader sees (blocks separated by newlines). */
  text: string;
  /** Link targets with the text each shows. */
  anchors: { href: string; shown: string }[];
}

const BLOCK = new Set(['p', 'div', 'br', 'tr', 'td', 'th', 'li', 'ul', 'ol', 'table', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'hr']);
const SKIP = new Set(['script', 'style', 'head', 'title', 'template']);
const LINK_ATTRS: Record<string, string> = { a: 'href', area: 'href', form: 'action' };

/** The visible text and the links of an HTML body, read with a real HTML parser (htmlparser2). */
export function readHtml(html: string): HtmlParts {
  const text: string[] = [];
  const anchors: HtmlParts['anchors'] = [];
  let skip = 0;
  let open: { href: string; shown: string[] } | undefined;
  const { Parser } = load('htmlparser2') as { Parser: typeof HtmlParser };
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (SKIP.has(name)) skip++;
        if (BLOCK.has(name)) text.push('\n');
        const attr = LINK_ATTRS[name];
        const href = attr ? attrs[attr]?.trim() : undefined;
        if (href) {
          if (name === 'a') open = { href, shown: [] };
          else anchors.push({ href, shown: '' });
        }
      },
      ontext(t) {
        if (skip > 0) return;
        text.push(t);
        open?.shown.push(t);
      },
      onclosetag(name) {
        if (SKIP.has(name)) skip = Math.max(0, skip - 1);
        if (BLOCK.has(name)) text.push('\n');
        if (name === 'a' && open) {
          anchors.push({ href: open.href, shown: open.shown.join('').trim() });
          open = undefined;
        }
      },
    },
    { decodeEntities: true },
  );
  parser.write(html);
  parser.end();
  return { text: text.join(''), anchors };
}

/** The canonical host of a URL or bare domain (mailto: gives the address's domain), or '' if it has none. */
function hostOf(url: string): string {
  try {
    // A protocol-relative href (`//evil.example/x`) opens over https in a mail client.
    const u = new URL(url.startsWith('//') ? `https:${url}` : url);
    if (u.protocol === 'mailto:') return domainOf(decodeURIComponent(u.pathname));
    return u.hostname ? canonicalDomain(u.hostname.replace(/^\[|\]$/g, '')) : '';
  } catch {
    return '';
  }
}

/** Hosts of the links written out in plain text (with or without a scheme, and bare email addresses). */
function textHosts(text: string): string[] {
  return (linkify().match(text) ?? []).map((m) => hostOf(m.url)).filter(Boolean);
}

/** Same site: equal, or one a subdomain of the other (www.acme.com and acme.com), never via a bare TLD. */
export function sameSite(a: string, b: string): boolean {
  if (a === b) return true;
  const [long, short] = a.length > b.length ? [a, b] : [b, a];
  return short.includes('.') && long.endsWith(`.${short}`);
}

/** The address in `Name <a@b>` or `a@b`, canonical. */
function bare(address: string): string {
  return canonicalEmail(/<([^>]+)>\s*$/.exec(address)?.[1] ?? address);
}

interface Scanned {
  where: 'subject' | 'text' | 'html';
  text: string;
  hosts: string[];
  anchors: HtmlParts['anchors'];
}

function scan(p: ThreadPart): Scanned[] {
  const out: Scanned[] = [{ where: 'subject', text: p.subject, hosts: textHosts(p.subject), anchors: [] }];
  if (p.text) out.push({ where: 'text', text: p.text, hosts: textHosts(p.text), anchors: [] });
  if (p.html) {
    const h = readHtml(p.html);
    const hrefHosts = h.anchors.map((a) => hostOf(a.href)).filter(Boolean);
    out.push({ where: 'html', text: h.text, hosts: [...hrefHosts, ...textHosts(h.text)], anchors: h.anchors });
  }
  return out;
}

/** A link whose text shows a domain (or URL) that is not the site it goes to. */
function mismatches(parts: Scanned[]): ThreadChange[] {
  const out: ThreadChange[] = [];
  for (const part of parts) {
    for (const a of part.anchors) {
      const target = hostOf(a.href);
      const shown = a.shown ? textHosts(a.shown)[0] : undefined;
      if (target && shown && !sameSite(shown, target)) out.push({ kind: 'link_text_mismatch', value: `${shown} -> ${target}`, where: part.where });
    }
  }
  return out;
}

/**
 * The changes the draft makes against its thread, most telling first (account numbers, disguised links,
 * recipients, link domains), each kind and value once. `thread` null means the draft is not a reply.
 */
export function threadChanges(draft: ThreadPart, thread: readonly ThreadPart[] | null): ThreadChange[] {
  const parts = scan(draft);
  const out: ThreadChange[] = [];
  if (thread !== null) {
    const known = thread.map(scan);
    const squashed = known
      .flat()
      .map((s) => `${squash(s.text)}\n${s.anchors.map((a) => squash(a.href)).join('\n')}`)
      .join('\n');
    for (const part of parts) {
      for (const n of findAccountNumbers(part.text)) {
        if (!appearsIn(squashed, n.value)) out.push({ kind: ACCOUNT_KIND[n.kind], value: n.value, where: part.where });
      }
    }
    out.push(...mismatches(parts));
    const participants = new Set(thread.flatMap((t) => [...(t.from ? [t.from] : []), ...t.to, ...t.cc, ...(t.bcc ?? [])]).map(bare));
    for (const where of ['to', 'cc', 'bcc'] as const) {
      for (const r of draft[where] ?? []) if (!participants.has(bare(r))) out.push({ kind: 'new_recipient', value: bare(r), where });
    }
    const knownHosts = [...known.flat().flatMap((s) => s.hosts), ...[...participants].map(domainOf)].filter(Boolean);
    for (const part of parts) {
      for (const h of part.hosts) if (!knownHosts.some((k) => sameSite(h, k))) out.push({ kind: 'new_link_domain', value: h, where: part.where });
    }
  } else {
    out.push(...mismatches(parts));
  }
  // Sort by kind order (stable within a kind), then keep each kind and value once.
  const rank = (k: ThreadChangeKind) => THREAD_CHANGE_KINDS.indexOf(k);
  const seen = new Set<string>();
  return out
    .map((c, i) => ({ c, i }))
    .sort((a, b) => rank(a.c.kind) - rank(b.c.kind) || a.i - b.i)
    .map(({ c }) => c)
    .filter((c) => !seen.has(`${c.kind} ${c.value}`) && (seen.add(`${c.kind} ${c.value}`), true));
}
