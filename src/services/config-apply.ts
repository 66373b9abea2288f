/**
 * Applying the config file at start. Every process opens the app (each CLI command too), so a file re-applied
 * at every start would undo an operator's runtime change (the update_mailbox tool, the dashboard, `mailgate
 * mailbox update`) at the next `mailgate approve`: an emergency downgrade to read_only would last minutes.
 * Instead a mailbox's entry is applied when the entry itself changes: the digest of what was last applied is
 * kept on the mailbox, and a runtime change holds until someone edits that entry. README "Configuration",
 * "Runtime changes and the config file".
 */
import { createHash } from 'node:crypto';
import type { LoadedConfig } from '../config/load.js';
import type { MailboxConfig } from '../config/schema.js';
import { MailgateError } from '../errors.js';
import { parseSuppressionEntry } from '../gate/canonical.js';
import { loosenings } from '../gate/loosening.js';
import { resolveMode } from '../gate/modes.js';
import { log } from '../log.js';
import { canonicalJson } from '../canonical-json.js';
import type { Mailbox, NewMailbox, Store } from '../store/store.js';
import { DEFAULT_PENDING_TTL_SECONDS } from './mailboxes.js';
import { syncConfigWebhooks } from './webhooks.js';

/** A file entry in the form stored on the mailbox: aliases resolved, defaults filled in. */
type WantedMailbox = Omit<NewMailbox, 'config_digest'>;

/** The fields an entry sets. mode_source is compared apart: it names a vocabulary and changes no behaviour. */
const BEHAVIOUR_FIELDS = ['display_name', 'oversight_mode', 'auto_approve_rules', 'pending_ttl_seconds', 'transport', 'policy', 'metadata'] as const;

type EntryPlan =
  /** The mailbox is what the file says and the entry is the one last applied. */
  | { kind: 'in_line' }
  /** The entry changed but the mailbox already matches it: record the digest, nothing to audit. */
  | { kind: 'record' }
  /** The entry changed since it was last applied: apply it (audited). */
  | { kind: 'apply'; differs: string[] }
  /** The mailbox differs from an entry that did not change: a runtime change holds. `record` when no digest was kept. */
  | { kind: 'runtime_holds'; differs: string[]; record: boolean };

/**
 * What a start does with one existing mailbox. With no digest recorded (a database from before schema 4, or a
 * mailbox made at runtime and later listed in the file), the mailbox keeps its state: before schema 4 every
 * start applied the file, so a difference found now is a change an operator made since the last start, such
 * as yesterday's emergency downgrade.
 */
function planEntry(current: Mailbox, wanted: WantedMailbox, digest: string): EntryPlan {
  const differs = BEHAVIOUR_FIELDS.filter((k) => canonicalJson(current[k]) !== canonicalJson(wanted[k]));
  if (current.config_digest === digest) return differs.length ? { kind: 'runtime_holds', differs, record: false } : { kind: 'in_line' };
  if (differs.length === 0) return { kind: 'record' };
  if (current.config_digest === null) return { kind: 'runtime_holds', differs, record: true };
  return { kind: 'apply', differs };
}

/** sha256 of the canonical JSON of the normalised entry, so key order and aliases' spelling in the file do not matter. */
function entryDigest(wanted: WantedMailbox): string {
  return createHash('sha256').update(canonicalJson(wanted)).digest('hex');
}

function desiredMailbox(mb: MailboxConfig): WantedMailbox {
  const mode = resolveMode(mb);
  if (!mode.ok) throw new Error(`mailbox ${mb.address}: ${mode.field}: ${mode.message}`);
  return {
    address: mb.address,
    display_name: mb.display_name ?? null,
    oversight_mode: mode.value.mode,
    mode_source: mode.value.source,
    auto_approve_rules: mode.value.rules,
    pending_ttl_seconds: mb.pending_ttl ?? DEFAULT_PENDING_TTL_SECONDS,
    transport: mb.imap ? 'imap_smtp' : 'sandbox',
    policy: mb.policy ?? {},
    metadata: mb.metadata ?? {},
  };
}

/**
 * Creates the file's missing mailboxes and applies each entry that changed since it was last applied. With
 * no file (the built-in default) the sandbox mailboxes are only created if missing, never reset.
 */
export async function applyConfig(store: Store, loaded: LoadedConfig, now: number): Promise<void> {
  const actor = loaded.source ? `config:${loaded.source}` : 'config:default';
  // Settings kept in the database follow the config file when one is given; a CLI run without the file (an
  // operator at a terminal) must not reset them to the defaults.
  if (loaded.source) {
    await store.setPersonalDataMode(loaded.config.audit_personal_data);
    await store.syncConfigSuppressions(
      loaded.config.suppress.map((e) => parseSuppressionEntry(e)!),
      actor,
      now,
    );
  }
  await store.setContactLists(loaded.config.contact_lists);
  for (const mb of loaded.config.mailboxes) {
    const wanted = desiredMailbox(mb);
    const digest = entryDigest(wanted);
    const existing = await store.getMailbox(wanted.address);
    if (!existing) await createFromConfig(store, wanted, digest, actor, now);
    else if (loaded.source) await applyEntry(store, existing, wanted, digest, actor, now);
  }
  // Like mailboxes: without a file (the built-in default) the endpoints a file set earlier are left alone.
  if (loaded.source) await syncConfigWebhooks(store, loaded.config.webhooks, actor, now);
}

async function createFromConfig(store: Store, wanted: WantedMailbox, digest: string, actor: string, now: number): Promise<void> {
  try {
    await store.createMailbox({ ...wanted, config_digest: digest }, actor, now);
    log('info', 'mailbox created from config', { address: wanted.address, mode: wanted.oversight_mode });
  } catch (err) {
    // Another process starting on the same fresh database created it first: that is the wanted state.
    if (!(err instanceof MailgateError && err.code === 'MAILBOX_EXISTS')) throw err;
  }
}

async function applyEntry(store: Store, current: Mailbox, wanted: WantedMailbox, digest: string, actor: string, now: number): Promise<void> {
  const plan = planEntry(current, wanted, digest);
  if (plan.kind === 'in_line') return;
  if (plan.kind === 'record') {
    await store.updateMailbox(current.address, {}, actor, 'config file entry recorded', now, { configDigest: digest });
    return;
  }
  if (plan.kind === 'runtime_holds') {
    if (plan.record) await store.updateMailbox(current.address, {}, actor, 'config file entry recorded', now, { configDigest: digest });
    await logRuntimeHolds(store, current, wanted, plan, actor);
    return;
  }
  // Judged against the mailbox as it is (a runtime read_only the file lifts is a loosening), not the old entry.
  const loosened = loosenings(current, wanted);
  const { address: _address, ...patch } = wanted;
  const r = await store.updateMailbox(current.address, patch, actor, "the config file's entry for this mailbox changed", now, {
    configDigest: digest,
    detail: { source: actor, ...(loosened.length ? { loosened: true, loosenings: loosened } : {}) },
  });
  const fields = { address: current.address, changed: r.changed, mode: { from: current.oversight_mode, to: r.mailbox.oversight_mode }, source: actor };
  if (loosened.length) log('warn', 'the config file loosened a mailbox (audited with loosened: true)', { ...fields, loosenings: loosened });
  else log('info', 'mailbox updated from config', fields);
}

async function logRuntimeHolds(
  store: Store,
  current: Mailbox,
  wanted: WantedMailbox,
  plan: { differs: string[]; record: boolean },
  actor: string,
): Promise<void> {
  const last = await store.lastMailboxChange(current.address);
  const by = last ? `${last.actor} at ${new Date(last.at).toISOString()}` : `someone at ${new Date(current.updated_at).toISOString()}`;
  const differences = Object.fromEntries(plan.differs.map((k) => [k, { now: current[k as keyof Mailbox], file: wanted[k as keyof WantedMailbox] }]));
  const holds = plan.record
    ? `the mailbox's current state (last changed by ${by}) holds: no record of the file's entry being applied (a database from before schema 4, or a mailbox made at runtime); edit the file's entry to apply it`
    : `the runtime change by ${by} holds; edit the file's entry to apply it again`;
  log('warn', 'mailbox differs from the config file', {
    address: current.address,
    source: actor,
    holds: 'runtime',
    differences,
    changed_by: last?.actor ?? null,
    changed_at: new Date(last?.at ?? current.updated_at).toISOString(),
    detail: holds,
  });
}
