/**
 * The human's commands: mailboxes, the pending queue, decisions and the audit log. The person at the
 * terminal is the actor recorded (`--as NAME`, default the OS user); the CLI is the trusted path, because
 * only someone with access to this machine's database can run it.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { createApp, type App } from '../app.js';
import type { LoadedConfig } from '../config/load.js';
import { invalid } from '../errors.js';
import { PolicySettings } from '../gate/policy/settings.js';
import { AutoApproveRules } from '../gate/rules/index.js';
import type { Principal } from '../services/context.js';
import { checkPendingTtl, createMailbox, listMailboxes, updateMailbox } from '../services/mailboxes.js';
import { exportAudit } from '../services/audit-export.js';
import { verifyAudit } from '../services/audit-log.js';
import { listCaptured } from '../services/captured.js';
import { rejectItem } from '../services/actions.js';
import { auditTrail, type ListableStatus, listPending } from '../services/review.js';
import { Duration, EmailAddress, MailboxMetadata, OversightMode, ReviewId } from '../values.js';
import { toAuditEvent, toMailbox, toMessageDetail, toPendingItem } from '../present/records.js';
import { toActionDetail, toActionView } from '../present/actions.js';
import { printJson, printLine, printTable } from './output.js';
import { deliveryStatus, mailboxResumeCommand } from './delivery.js';

export interface Flags {
  json?: boolean | undefined;
  as?: string | undefined;
  note?: string | undefined;
  reason?: string | undefined;
  mailbox?: string | undefined;
  limit?: string | undefined;
  message?: string | undefined;
  mode?: string | undefined;
  'autonomy-level'?: string | undefined;
  'approval-mode'?: string | undefined;
  rules?: string | undefined;
  policy?: string | undefined;
  ttl?: string | undefined;
  'display-name'?: string | undefined;
  cursor?: string | undefined;
  since?: string | undefined;
  out?: string | undefined;
  anchor?: string | undefined;
  'automated-decisions'?: boolean | undefined;
  status?: string | undefined;
  /** `key=value`, repeatable (src/cli/spec.ts). */
  metadata?: string[] | undefined;
}

export async function withApp<T>(loaded: LoadedConfig, fn: (app: App) => Promise<T>): Promise<T> {
  const app = await createApp(loaded);
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

function parseWith<T>(
  field: string,
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } } },
  value: unknown,
): T {
  const r = schema.safeParse(value);
  if (!r.success) throw invalid(field, r.error.issues.map((i) => i.message).join('; '));
  return r.data;
}

function limitOf(flags: Flags, dflt: number, max: number): number {
  if (flags.limit === undefined) return dflt;
  const n = Number(flags.limit);
  if (!Number.isInteger(n) || n < 1 || n > max) throw invalid('--limit', `give a whole number from 1 to ${max}`);
  return n;
}

function modeFlags(flags: Flags) {
  const level = flags['autonomy-level'];
  return {
    oversight_mode: flags.mode === undefined ? undefined : parseWith('--mode', OversightMode, flags.mode),
    autonomy_level:
      level === undefined
        ? undefined
        : parseWith(
            '--autonomy-level',
            {
              safeParse: (v: unknown) =>
                ['1', '2', '3'].includes(String(v))
                  ? { success: true as const, data: Number(v) as 1 | 2 | 3 }
                  : { success: false as const, error: { issues: [{ message: 'must be 1, 2 or 3' }] } },
            },
            level,
          ),
    approval_mode:
      flags['approval-mode'] === undefined
        ? undefined
        : parseWith(
            '--approval-mode',
            {
              safeParse: (v: unknown) =>
                ['all', 'smart', 'none'].includes(String(v))
                  ? { success: true as const, data: v as 'all' | 'smart' | 'none' }
                  : { success: false as const, error: { issues: [{ message: "must be 'all', 'smart' or 'none'" }] } },
            },
            flags['approval-mode'],
          ),
    auto_approve_rules: flags.rules === undefined ? undefined : parseWith('--rules', AutoApproveRules, parseJsonFlag('--rules', flags.rules)),
    // Replaces the mailbox's own policy settings, as update_mailbox's `policy` does.
    policy: flags.policy === undefined ? undefined : parseWith('--policy', PolicySettings, parseJsonFlag('--policy', flags.policy)),
    metadata: flags.metadata === undefined ? undefined : parseWith('--metadata', MailboxMetadata, metadataFlags(flags.metadata)),
    pending_ttl_seconds: flags.ttl === undefined ? undefined : parseWith('--ttl', Duration, /^\d+$/.test(flags.ttl) ? Number(flags.ttl) : flags.ttl),
  };
}

function parseJsonFlag(field: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalid(field, `not valid JSON; for example '[{"type":"reply"}]'`);
  }
}

export async function mailboxCommand(app: App, who: Principal, sub: string | undefined, args: string[], flags: Flags): Promise<void> {
  if (sub === 'list' || sub === undefined) {
    const mailboxes = await listMailboxes(app, who);
    const rows = mailboxes.map((mb) => ({ ...toMailbox(mb), deliveries: deliveryStatus(mb, app.clock()) }));
    if (flags.json) return printJson({ mailboxes: rows });
    return printTable(
      rows.map((r) => ({ ...r, rules: r.auto_approve_rules.map((x) => JSON.stringify(x)).join(' ') })),
      ['address', 'oversight_mode', 'mode_source', 'rules', 'pending_ttl', 'display_name', 'deliveries'],
    );
  }
  if (sub === 'resume') return mailboxResumeCommand(app, who, args, flags);
  const address = parseWith('address', EmailAddress, args[0] ?? '');
  // Checked here too so the error names the flag the person typed.
  if (sub === 'create' || sub === 'update') checkPendingTtl(app, modeFlags(flags).pending_ttl_seconds, '--ttl');
  if (sub === 'create') {
    const m = await createMailbox(app, who, { address, display_name: flags['display-name'], ...modeFlags(flags) });
    return flags.json ? printJson(toMailbox(m)) : printLine(`created ${m.address} (${m.oversight_mode}, ${m.mode_source})`);
  }
  if (sub === 'update') {
    if (!flags.reason) throw invalid('--reason', 'say why the mailbox is changed, e.g. --reason "30-day review passed"');
    const r = await updateMailbox(app, who, { address, display_name: flags['display-name'], ...modeFlags(flags), change_reason: flags.reason });
    if (flags.json) return printJson({ ...toMailbox(r.mailbox), changed: r.changed, pending_unaffected: r.pending_unaffected });
    return printLine(
      r.changed.length
        ? `updated ${address}: ${r.changed.join(', ')} (now ${r.mailbox.oversight_mode}); ${r.pending_unaffected} held message(s) stay held`
        : `no change to ${address}`,
    );
  }
  throw invalid('mailbox', `unknown subcommand '${sub}'; use list, create, update or resume`);
}

/**
 * `--metadata key=value` pairs. A value that reads as a JSON number, boolean or string is that (`7`, `true`,
 * `'"7"'` for the string 7); anything else is the text as typed, so `ticket=T-7` needs no quoting.
 */
function metadataFlags(pairs: readonly string[] | undefined): Record<string, string | number | boolean> | undefined {
  if (!pairs?.length) return undefined;
  const out: Record<string, string | number | boolean> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw invalid('--metadata', `give key=value, e.g. --metadata ticket=T-7 (got ${JSON.stringify(pair)})`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // Plain text: taken as a string.
    }
    out[pair.slice(0, eq)] = ['string', 'number', 'boolean'].includes(typeof value) ? (value as string | number | boolean) : raw;
  }
  return out;
}

export async function pendingCommand(app: App, who: Principal, flags: Flags): Promise<void> {
  const page = await listPending(app, who, {
    mailbox: flags.mailbox,
    limit: limitOf(flags, 50, 1000),
    cursor: flags.cursor,
    status: flags.status as ListableStatus | undefined,
    metadata: metadataFlags(flags.metadata),
  });
  const rows = page.messages.map(toPendingItem);
  const actions = page.actions.map(toActionView);
  if (flags.json) return printJson({ messages: rows, actions, next_cursor: page.next_cursor });
  const shown = rows.map((r) => ({
    ...r,
    metadata: r.metadata
      ? Object.entries(r.metadata)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')
      : '',
  }));
  printTable(shown, ['message_id', 'mailbox', 'status', 'to', 'subject', 'metadata', 'created_at', 'expires_at']);
  if (actions.length) {
    printLine('held mailbox actions (tag_email):');
    printTable(
      actions.map((a) => ({
        ...a,
        change: [
          a.add_flags.length ? `add ${a.add_flags.join(' ')}` : '',
          a.remove_flags.length ? `remove ${a.remove_flags.join(' ')}` : '',
          a.move_to ? `move to ${a.move_to}` : '',
          a.delete ? (a.delete === 'permanent' ? 'delete permanently' : 'move to Trash') : '',
        ]
          .filter(Boolean)
          .join('; '),
      })),
      ['action_id', 'mailbox', 'email_id', 'change', 'created_at', 'expires_at'],
    );
  }
  // The same filters again, or the next page would list other mail.
  const again = [
    flags.mailbox && `--mailbox ${flags.mailbox}`,
    flags.status && `--status ${flags.status}`,
    ...(flags.metadata ?? []).map((p) => `--metadata ${JSON.stringify(p)}`),
  ];
  if (page.next_cursor) printLine(`more: mailgate pending ${[...again.filter(Boolean), `--cursor ${page.next_cursor}`].join(' ')}`);
}

export async function rejectCommand(app: App, who: Principal, args: string[], flags: Flags): Promise<void> {
  const id = parseWith('message id', ReviewId, args[0] ?? '');
  const reason = flags.reason?.trim();
  if (!reason) throw invalid('--reason', 'a rejection needs a reason, e.g. --reason "wrong recipient"');
  const m = await rejectItem(app, who, id, reason);
  if (flags.json) return printJson('action_id' in m ? toActionDetail(m) : toMessageDetail(m));
  printLine(`${id}: ${m.status}${m.last_error ? ` (${m.last_error})` : ''}`);
}

export async function auditCommand(app: App, who: Principal, sub: string | undefined, flags: Flags): Promise<number> {
  if (sub === 'verify') {
    if (flags.anchor !== undefined && !/^[0-9a-f]{64}$/.test(flags.anchor))
      throw invalid('--anchor', 'give a head hash printed by an earlier audit verify (64 hex characters)');
    const r = await verifyAudit(app, who, flags.anchor);
    if (flags.json) printJson(r);
    else if (!r.ok) printLine(`audit chain BROKEN at event seq ${r.first_bad_seq}: ${r.problem}`);
    else {
      printLine(`audit chain ok: ${r.events} events`);
      // The chain cannot show on its own that its newest events were not cut off: keep this line elsewhere.
      if (r.head) printLine(`head: seq ${r.head.seq} hash ${r.head.hash} (keep it; check later with --anchor)`);
    }
    return r.ok ? 0 : 1;
  }
  if (sub === 'export') {
    const since = flags.since === undefined ? undefined : Date.parse(flags.since);
    if (since !== undefined && Number.isNaN(since)) throw invalid('--since', 'give a date or time such as 2026-11-01 or 2026-11-01T09:00:00Z');
    const out: NodeJS.WritableStream = flags.out ? createWriteStream(flags.out) : process.stdout;
    let chainOk = true;
    for await (const record of exportAudit(app, who, { mailbox: flags.mailbox, since, automatedDecisions: flags['automated-decisions'] === true })) {
      if (record.type === 'chain') chainOk = record.ok === true;
      if (!out.write(`${JSON.stringify(record)}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    if (out !== process.stdout) await new Promise<void>((resolve, reject) => (out as WriteStream).end((err?: Error | null) => (err ? reject(err) : resolve())));
    return chainOk ? 0 : 1;
  }
  if (sub !== undefined)
    throw invalid(
      'audit',
      `unknown subcommand '${sub}'; use 'mailgate audit [--message ID] [--mailbox ADDR]', 'mailgate audit verify' or 'mailgate audit export'`,
    );
  const message_id = flags.message === undefined ? undefined : parseWith('--message', ReviewId, flags.message);
  const events = (await auditTrail(app, who, { message_id, mailbox: flags.mailbox, limit: limitOf(flags, 100, 100_000) })).map(toAuditEvent);
  if (flags.json) printJson({ events });
  else
    printTable(
      events.map((e) => ({ ...e, detail: JSON.stringify(e.detail) })),
      ['seq', 'at', 'actor', 'action', 'mailbox', 'message_id', 'detail'],
    );
  return 0;
}

export async function capturedCommand(app: App, who: Principal, flags: Flags): Promise<void> {
  const rows = (await listCaptured(app, who, limitOf(flags, 50, 10_000))).map((c) => ({ ...c, captured_at: new Date(c.captured_at).toISOString() }));
  if (flags.json) return printJson({ captured: rows });
  printTable(rows, ['message_id', 'mailbox', 'recipient', 'subject', 'captured_at']);
}
