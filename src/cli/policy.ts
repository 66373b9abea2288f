/**
 * `mailgate policy test`: which rules a draft would hit, without sending (the seeds' "simulate" endpoint);
 * `mailgate suppress add|remove|list`: the suppression list.
 */
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import type { App } from '../app.js';
import { invalid, MailgateError } from '../errors.js';
import type { Principal } from '../services/context.js';
import { eraseMessage } from '../services/personal-data.js';
import { listSuppressed, suppress, testPolicy, unsuppress } from '../services/policy.js';
import { EmailAddress, headerText } from '../values.js';
import { printJson, printLine, printTable } from './output.js';

export interface PolicyFlags {
  json?: boolean | undefined;
  mailbox?: string | undefined;
  to?: string | undefined;
  cc?: string | undefined;
  bcc?: string | undefined;
  subject?: string | undefined;
  text?: string | undefined;
  html?: string | undefined;
  file?: string | undefined;
  reason?: string | undefined;
  limit?: string | undefined;
}

const list = z.array(EmailAddress).default([]);
const Draft = z
  .object({
    mailbox: EmailAddress,
    to: list,
    cc: list,
    bcc: list,
    subject: headerText('subject').default('(no subject)'),
    text: z.string().nullable().default(null),
    html: z.string().nullable().default(null),
    attachments: z
      .array(z.object({ filename: z.string().min(1), size: z.number().int().min(0), content_type: z.string().default('application/octet-stream') }).strict())
      .default([]),
    thread_participants: z.array(EmailAddress).nullable().default(null),
    // automated_decision / decision_type here meet the GDPR Art. 22 hold, as on a real send.
    metadata: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .nullable()
      .default(null),
  })
  .strict();

const split = (v: string | undefined) =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

function readDraft(flags: PolicyFlags): z.infer<typeof Draft> {
  let raw: Record<string, unknown> = {};
  if (flags.file) {
    try {
      raw = JSON.parse(readFileSync(flags.file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw invalid('--file', `cannot read a JSON draft from ${flags.file}: ${(err as Error).message}`);
    }
  }
  const fromFlags = {
    mailbox: flags.mailbox,
    to: split(flags.to),
    cc: split(flags.cc),
    bcc: split(flags.bcc),
    subject: flags.subject,
    text: flags.text,
    html: flags.html,
  };
  const merged = { ...raw, ...Object.fromEntries(Object.entries(fromFlags).filter(([, v]) => v !== undefined)) };
  const r = Draft.safeParse(merged);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw invalid(`--${String(i.path[0] ?? 'file')}`, i.message);
  }
  if (r.data.to.length + r.data.cc.length + r.data.bcc.length === 0) throw invalid('--to', 'give at least one recipient');
  return r.data;
}

export async function policyCommand(app: App, who: Principal, sub: string | undefined, flags: PolicyFlags): Promise<number> {
  if (sub !== 'test') throw new MailgateError('INVALID_INPUT', "use 'mailgate policy test --mailbox A --to B --subject S --text T' (or --file draft.json)");
  const d = readDraft(flags);
  const decision = await testPolicy(app, who, {
    mailbox: d.mailbox,
    content: { to: d.to, cc: d.cc, bcc: d.bcc, subject: d.subject, text: d.text, html: d.html },
    attachments: d.attachments,
    thread_participants: d.thread_participants,
    metadata: d.metadata,
    kind: d.thread_participants ? 'reply' : 'send',
  });
  const hits = decision.hits ?? [];
  if (flags.json) return (printJson({ outcome: decision.outcome, code: decision.code, reason: decision.reason, hits }), 0);
  printLine(`${decision.outcome.toUpperCase()} (${decision.code}): ${decision.reason}`);
  printLine('');
  printTable(
    hits.map((h) => ({ rule: h.rule, effect: h.effect, code: h.code, reason: h.reason })),
    ['rule', 'effect', 'code', 'reason'],
  );
  printLine('\nNothing was recorded or sent.');
  return 0;
}

export async function suppressCommand(app: App, who: Principal, sub: string | undefined, args: string[], flags: PolicyFlags): Promise<void> {
  const entry = args[0];
  if (sub === 'list') {
    const limit = Number(flags.limit ?? 1000);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw invalid('--limit', 'give a whole number from 1 to 100000');
    const rows = await listSuppressed(app, who, { mailbox: flags.mailbox, limit });
    if (flags.json) return printJson(rows);
    return printTable(
      rows.map((r) => ({ ...r, created_at: new Date(r.created_at).toISOString() })),
      ['scope', 'kind', 'value', 'source', 'reason', 'created_at', 'created_by'],
    );
  }
  if ((sub !== 'add' && sub !== 'remove') || !entry) {
    throw new MailgateError('INVALID_INPUT', "use 'mailgate suppress add|remove ADDRESS_OR_DOMAIN [--mailbox A] [--reason R]' or 'mailgate suppress list'");
  }
  const input = { entry, mailbox: flags.mailbox, reason: flags.reason };
  const r = sub === 'add' ? await suppress(app, who, input) : await unsuppress(app, who, input);
  if (flags.json) return printJson(r);
  const changed = 'added' in r ? r.added : r.removed;
  const scope = r.scope === '*' ? 'every mailbox' : r.scope;
  printLine(
    changed
      ? `${sub === 'add' ? 'suppressed' : 'no longer suppressed'}: ${r.kind} ${r.value} (${scope})`
      : `${r.kind} ${r.value} was ${sub === 'add' ? 'already' : 'not'} on the list for ${scope}`,
  );
}

/** `mailgate erase MESSAGE_ID --reason R`: removes a decided message's personal data (GDPR Art. 17). */
export async function eraseCommand(app: App, who: Principal, id: string | undefined, flags: PolicyFlags): Promise<void> {
  if (!id) throw new MailgateError('INVALID_INPUT', "use 'mailgate erase MESSAGE_ID --reason TEXT'");
  if (!flags.reason?.trim()) throw invalid('--reason', 'say why the data is erased (for example the request reference); it is kept in the audit log');
  await eraseMessage(app, who, id, flags.reason.trim());
  if (flags.json) return printJson({ message_id: id, erased: true });
  printLine(`erased the personal data of ${id}; its status, decisions and audit chain remain`);
}
