/**
 * The dashboard's page handlers. Each reads through the same services as the CLI and the MCP tools (never the
 * store: .dependency-cruiser.cjs checks it) and decides through their guarded transitions, as the signed-in
 * principal.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import { canDraftAndDecide } from '../auth/principal.js';
import { invalid } from '../errors.js';
import { toSummary } from '../present/records.js';
import { verifyAudit } from '../services/audit-log.js';
import type { AppContext, Principal } from '../services/context.js';
import { listMailboxes, updateMailbox } from '../services/mailboxes.js';
import { actionEmail, approveItem, rejectItem } from '../services/actions.js';
import { auditTrail, listPending } from '../services/review.js';
import { recipientFlags } from '../services/recipients.js';
import { getActionOrThrow, getMessageOrThrow, repliedEmail } from '../services/scope.js';
import { threadReport } from '../services/thread-changes.js';
import type { MailboxAction, MessageContent, OutboundMessage } from '../store/store.js';
import { EmailAddress, headerText, isActionId, OversightMode } from '../values.js';
import { redirect, send, sendHtml } from './http.js';
import type { DashSession } from './session.js';
import { mailboxesPage } from './views/admin.js';
import { auditPage } from './views/audit.js';
import { type Flash, layout } from './views/layout.js';
import { actionList, actionPage } from './views/action.js';
import { messagePage } from './views/message.js';
import { applyFilter, filterFrom, queueList, queuePage } from './views/queue.js';

export interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  session: DashSession;
  form: URLSearchParams;
}

/** The signed-in principal, naming the page in any authz.denied event. */
const who = (c: Call): Principal => ({ ...c.session.principal, via: `dashboard:${c.req.method ?? 'GET'} ${c.url.pathname}` });

const PAGE = 200;
const MAX_QUEUE = 2000;

async function allPending(app: AppContext, c: Call, mailbox: string): Promise<{ messages: OutboundMessage[]; actions: MailboxAction[] }> {
  const out: OutboundMessage[] = [];
  const actions: MailboxAction[] = [];
  let cursor: string | undefined;
  do {
    const page = await listPending(app, who(c), { mailbox: mailbox || undefined, limit: PAGE, cursor });
    out.push(...page.messages);
    actions.push(...page.actions);
    cursor = page.next_cursor ?? undefined;
  } while (cursor && out.length < MAX_QUEUE);
  return { messages: out, actions };
}

export async function queue(app: AppContext, c: Call): Promise<void> {
  const f = filterFrom(c.url.searchParams);
  const now = app.clock();
  const { messages: all, actions } = await allPending(app, c, f.mailbox);
  const shown = applyFilter(all, f, now);
  const held = actionList(
    actions.filter((a) => !f.agent || a.created_by === f.agent),
    now,
  );
  if (c.url.searchParams.get('fragment') === '1') return sendHtml(c.res, 200, queueList(shown, now) + held);
  sendHtml(c.res, 200, layout('Queue', queuePage(all, shown, await listMailboxes(app, who(c)), f, now, held), c.session));
}

const DONE: Record<string, string> = { approved: 'Approved.', rejected: 'Rejected: it will not be sent.' };

export async function message(app: AppContext, c: Call, id: string, flash?: Flash, status = 200): Promise<void> {
  if (isActionId(id)) return actionMessage(app, c, id, flash, status);
  const m = await getMessageOrThrow(app, who(c), id);
  const email = await repliedEmail(app, who(c), m);
  const done = DONE[c.url.searchParams.get('done') ?? ''];
  const approveBlocked = canDraftAndDecide(c.session.principal.roles)
    ? `This token (${c.session.tokenName}) can also draft mail, so an approval from it needs a person's confirmation outside it: ` +
      `sign in with a reviewer token that cannot draft, or run 'mailgate approve ${m.message_id}'. Rejecting works here.`
    : undefined;
  const body = messagePage({
    m,
    flags: await recipientFlags(app, m),
    session: c.session,
    approveBlocked,
    changes: await threadReport(app, m),
    now: app.clock(),
    thread: email ? { email, snippet: toSummary(email).snippet } : undefined,
  });
  sendHtml(
    c.res,
    status,
    layout(m.subject || m.message_id, body, c.session, flash ?? (done ? { kind: 'ok', text: `${done} Status: ${m.status}.` } : undefined)),
  );
}

async function actionMessage(app: AppContext, c: Call, id: string, flash: Flash | undefined, status: number): Promise<void> {
  const a = await getActionOrThrow(app, who(c), id);
  const done = DONE[c.url.searchParams.get('done') ?? ''];
  const approveBlocked = canDraftAndDecide(c.session.principal.roles)
    ? `This token (${c.session.tokenName}) can also draft, so an approval from it needs a person: sign in with a reviewer token that cannot draft, or run 'mailgate approve ${id}'.`
    : undefined;
  const body = actionPage({ a, email: await actionEmail(app, who(c), a), session: c.session, approveBlocked, now: app.clock() });
  sendHtml(c.res, status, layout(`Action ${id}`, body, c.session, flash ?? (done ? { kind: 'ok', text: `${done} Status: ${a.status}.` } : undefined)));
}

export async function messageStatus(app: AppContext, c: Call, id: string): Promise<void> {
  const m = isActionId(id) ? await getActionOrThrow(app, who(c), id) : await getMessageOrThrow(app, who(c), id);
  send(c.res, 200, 'application/json; charset=utf-8', JSON.stringify({ status: m.status }));
}

const addresses = (field: string) =>
  z.string().transform((v, ctx) => {
    const out: string[] = [];
    for (const part of v
      .split(/[,;\n]/)
      .map((p) => p.trim())
      .filter(Boolean)) {
      const r = EmailAddress.safeParse(part);
      if (r.success) out.push(r.data);
      else ctx.addIssue({ code: 'custom', message: `${field}: '${part}' is ${r.error.issues[0]!.message}` });
    }
    return [...new Set(out)];
  });

const editForm = z.object({ to: addresses('To'), cc: addresses('Cc'), bcc: addresses('Bcc'), subject: headerText('Subject'), text: z.string().max(500_000) });

/** Only what the reviewer changed becomes an edit, so an untouched field keeps the drafted value exactly. */
function editsFrom(form: URLSearchParams, m: OutboundMessage): Partial<MessageContent> {
  const parsed = editForm.safeParse({
    to: form.get('to') ?? '',
    cc: form.get('cc') ?? '',
    bcc: form.get('bcc') ?? '',
    subject: form.get('subject') ?? '',
    text: (form.get('text') ?? '').replace(/\r\n/g, '\n'),
  });
  if (!parsed.success) throw invalid('edits', parsed.error.issues.map((i) => i.message).join('; '));
  const v = parsed.data;
  const edits: Partial<MessageContent> = {};
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  if (!same(v.to, m.to)) edits.to = v.to;
  if (!same(v.cc, m.cc)) edits.cc = v.cc;
  if (!same(v.bcc, m.bcc)) edits.bcc = v.bcc;
  if (v.subject !== m.subject) edits.subject = v.subject;
  if (v.text !== (m.text ?? '')) edits.text = v.text || null;
  if (form.get('drop_html') === '1' && m.html !== null) edits.html = null;
  return edits;
}

export async function approve(app: AppContext, c: Call, id: string): Promise<void> {
  const note = c.form.get('note')?.trim() || null;
  const m = isActionId(id) ? undefined : await getMessageOrThrow(app, who(c), id);
  const edits = m && c.form.get('edit') === '1' ? editsFrom(c.form, m) : undefined;
  await approveItem(app, who(c), id, { note, edits: edits && Object.keys(edits).length ? edits : null });
  redirect(c.res, `/messages/${encodeURIComponent(id)}?done=approved`);
}

export async function reject(app: AppContext, c: Call, id: string): Promise<void> {
  const reason = c.form.get('reason')?.trim();
  if (!reason) throw invalid('reason', 'say why the message is rejected; the reason is kept in the audit log');
  await rejectItem(app, who(c), id, reason);
  redirect(c.res, `/messages/${encodeURIComponent(id)}?done=rejected`);
}

export async function audit(app: AppContext, c: Call): Promise<void> {
  const message = c.url.searchParams.get('message')?.trim() || undefined;
  const mailbox = c.url.searchParams.get('mailbox')?.trim() || undefined;
  const events = await auditTrail(app, who(c), { message_id: message, mailbox, limit: message ? 500 : 200 });
  const scope = { ...(message ? { message } : {}), ...(mailbox ? { mailbox } : {}) };
  sendHtml(c.res, 200, layout('Audit', auditPage(scope, events, await verifyAudit(app, who(c))), c.session));
}

export async function mailboxes(app: AppContext, c: Call, flash?: Flash, status = 200): Promise<void> {
  const list = await Promise.all(
    (await listMailboxes(app, who(c))).map(async (mailbox) => ({
      mailbox,
      history: (await auditTrail(app, who(c), { mailbox: mailbox.address, limit: 500 })).filter((e) => e.action.startsWith('mailbox.')),
    })),
  );
  const done = c.url.searchParams.get('done') === 'mode' ? { kind: 'ok' as const, text: 'Mode changed.' } : undefined;
  sendHtml(c.res, status, layout('Mailboxes', mailboxesPage(list, c.session), c.session, flash ?? done));
}

export async function changeMode(app: AppContext, c: Call): Promise<void> {
  const mode = OversightMode.safeParse(c.form.get('mode'));
  if (!mode.success) throw invalid('mode', `choose one of ${OversightMode.options.join(', ')}`);
  await updateMailbox(app, who(c), {
    address: c.form.get('address') ?? '',
    oversight_mode: mode.data,
    change_reason: c.form.get('reason') ?? '',
  });
  redirect(c.res, '/mailboxes?done=mode');
}
