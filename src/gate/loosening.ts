/**
 * Whether a change to a mailbox's controls loosens them: lets some mail out, or past the queue, that the old
 * controls would have stopped. A session that can also draft mail must not make such a change alone
 * (src/services/mailboxes.ts asks the person). Sound rather than complete: a change that is not provably a
 * tightening (or no change) counts as loosening, so an unknown or new policy key can never slip through.
 */
import { createHash } from 'node:crypto';
import type { OversightMode } from '../values.js';
import { isLooserMode, isLoosening } from './modes.js';
import type { PolicySettings } from './policy/settings.js';
import type { AutoApproveRule } from './rules/index.js';

export interface MailboxControls {
  oversight_mode: OversightMode;
  auto_approve_rules: readonly AutoApproveRule[];
  policy: PolicySettings;
  transport: 'sandbox' | 'imap_smtp';
}

/** What a new mailbox gets when nothing is said: creating one looser than this is a loosening. */
export const NEW_MAILBOX_CONTROLS: MailboxControls = { oversight_mode: 'gated_send', auto_approve_rules: [], policy: {}, transport: 'sandbox' };

/** What in the change loosens, one phrase each ("mode gated_send -> autonomous"); empty when nothing does. */
export function loosenings(before: MailboxControls, after: MailboxControls): string[] {
  const out: string[] = [];
  if (isLooserMode(before.oversight_mode, after.oversight_mode)) out.push(`mode ${before.oversight_mode} -> ${after.oversight_mode}`);
  // Each rule is tested alone against the old list, under one mode, so only the rules themselves are compared.
  const mode = after.oversight_mode;
  for (const rule of after.auto_approve_rules) {
    if (isLoosening({ mode, rules: before.auto_approve_rules }, { mode, rules: [rule] })) out.push(`adds auto-approve rule ${JSON.stringify(rule)}`);
  }
  // Sandbox mail stays on this machine; any other transport reaches the world.
  if (before.transport !== after.transport && after.transport !== 'sandbox') out.push(`transport ${before.transport} -> ${after.transport}`);
  for (const key of policyLoosenings(before.policy, after.policy))
    out.push(`policy ${key}: ${show(pick(before.policy, key))} -> ${show(pick(after.policy, key))}`);
  return out;
}

type Verdict = 'same' | 'tighter' | 'looser';
type Compare = (before: unknown, after: unknown) => Verdict;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** A number where `lower` (or `higher`) is stricter; unset means "inherited", which cannot be compared. */
const bound =
  (stricter: 'lower' | 'higher'): Compare =>
  (a, b) => {
    if (a === b) return 'same';
    if (typeof a !== 'number' || typeof b !== 'number') return 'looser';
    return (stricter === 'lower' ? b <= a : b >= a) ? 'tighter' : 'looser';
  };

/** A switch that holds or refuses when true: turning it on tightens; off or unset may not. */
const guard: Compare = (a, b) => (a === b ? 'same' : b === true ? 'tighter' : 'looser');

/**
 * A switch that permits when true: turning it on loosens, off tightens; unsetting an explicit off may let a
 * global `true` through, so only unsetting an on is provably not looser.
 */
const permission: Compare = (a, b) => {
  if (a === b) return 'same';
  if (b === true) return 'looser';
  return b === false || a === true ? 'tighter' : 'looser';
};

const norm = (v: unknown) => new Set(Array.isArray(v) ? v.map((x) => String(x).trim().toLowerCase()) : []);
const subset = (a: Set<string>, b: Set<string>) => [...a].every((x) => b.has(x));

/** A list a mailbox adds to the global one (blocked domains: more is stricter; internal domains: fewer is). */
const additive =
  (stricter: 'more' | 'fewer'): Compare =>
  (a, b) => {
    const [x, y] = [norm(a), norm(b)];
    if (subset(x, y) && subset(y, x)) return 'same';
    return (stricter === 'more' ? subset(x, y) : subset(y, x)) ? 'tighter' : 'looser';
  };

/** allowed_domains replaces the global list, so only a narrowing of a list the mailbox already had is provable. */
const allowList: Compare = (a, b) => {
  if (same(a, b)) return 'same';
  if (a === undefined || b === undefined) return 'looser';
  return subset(norm(b), norm(a)) ? 'tighter' : 'looser';
};

const RULES: Record<string, Compare> = {
  dedupe_window: bound('higher'), // 0 (off) is the lowest
  'rate_limits.per_minute': bound('lower'),
  'rate_limits.per_hour': bound('lower'),
  'rate_limits.per_day': bound('lower'),
  'rate_limits.per_recipient_per_hour': bound('lower'),
  'rate_limits.per_recipient_per_day': bound('lower'),
  allowed_domains: allowList,
  blocked_domains: additive('more'),
  internal_domains: additive('fewer'),
  max_recipients: bound('lower'),
  max_attachments: bound('lower'),
  max_attachment_bytes: bound('lower'),
  max_total_attachment_bytes: bound('lower'),
  'content_holds.new_recipient': guard,
  'content_holds.new_external_domain': guard,
  'content_holds.secrets': guard,
  four_eyes: guard,
  gdpr_article22_scope: guard,
  allow_permanent_delete: permission,
};

/** The policy keys (dotted for nested ones) whose change is not provably a tightening. */
export function policyLoosenings(before: PolicySettings, after: PolicySettings): string[] {
  const keys = new Set([...leafKeys(before), ...leafKeys(after)]);
  return [...keys].filter((k) => (RULES[k] ?? ((a, b) => (same(a, b) ? 'same' : 'looser')))(pick(before, k), pick(after, k)) === 'looser');
}

/** Keys with nested objects of known rules (rate_limits, content_holds) listed leaf by leaf. */
function leafKeys(p: PolicySettings): string[] {
  return Object.entries(p as Record<string, unknown>).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(RULES).some((r) => r.startsWith(`${k}.`))
      ? Object.keys(v).map((sub) => `${k}.${sub}`)
      : [k],
  );
}

function pick(p: PolicySettings, key: string): unknown {
  return key.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), p);
}

const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));

/**
 * A digest of everything a change could be judged against: a confirmation asked for one state of the mailbox
 * (or its absence) does not apply to another. Fields in a fixed order, so the same row always digests alike.
 */
export function mailboxStateHash(m: (MailboxControls & { pending_ttl_seconds: number; display_name: string | null; updated_at: number }) | undefined): string {
  const fields = m === undefined ? null : [m.oversight_mode, m.auto_approve_rules, m.policy, m.transport, m.pending_ttl_seconds, m.display_name, m.updated_at];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}
