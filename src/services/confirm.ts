/**
 * Approvals only a person can give. A session that can draft mail and also approve it (agent with reviewer
 * or operator) holds a model that could approve its own drafts, so its approvals are confirmed by the
 * person, through the strongest channel the client offers:
 *   1. URL elicitation: a one-time link on 127.0.0.1 the client opens outside the model's view; the
 *      approval happens when the person presses Approve on that page (src/http/approval-link.ts).
 *   2. Form elicitation: a yes/no form in the client. Weaker: the server cannot tell a person's click from
 *      a client that answers forms automatically (hooks, headless clients), so it counts only when config
 *      `approvals.confirm_with` lists `form` (it does not by default).
 *   3. Neither: refused, with the exact CLI command a person can run.
 * Sessions that cannot draft (reviewer only) approve directly: no model there wrote the mail. The link
 * machinery here also confirms mailbox loosenings (src/services/confirm-change.ts).
 */
import { canDraftAndDecide } from '../auth/principal.js';
import { hashSecret, newLinkSecret } from '../auth/secrets.js';
import { invalid, MailgateError } from '../errors.js';
import { newApprovalLinkId } from '../ids.js';
import { htmlToText } from '../mail/parse.js';
import type { MailboxUpdateResult, OutboundMessage } from '../store/store.js';
import type { AppContext, ConfirmWith, Principal } from './context.js';
import { checkFourEyes } from './four-eyes.js';
import { type Approval, approveMessage } from './review.js';
import { getMessageOrThrow } from './scope.js';

/** How long a link, or the client's confirmation prompt, stays open (capped by the message's own expiry). */
export const CONFIRM_TTL_MS = 10 * 60_000;
/** How long one tool call waits for the person to press Approve; MCP clients time calls out after ~60 s. */
const LINK_WAIT_MS = 50_000;

interface Elicited {
  action: 'accept' | 'decline' | 'cancel';
  content?: Record<string, unknown> | undefined;
}

/** The client's elicitation, as the MCP layer offers it (src/mcp/server.ts builds it from the SDK). */
export interface Elicitor {
  readonly form: boolean;
  readonly url: boolean;
  askForm(message: string, schema: FormSchema, timeoutMs: number): Promise<Elicited>;
  askUrl(elicitationId: string, url: string, message: string, timeoutMs: number): Promise<Elicited>;
  /** notifications/elicitation/complete: the step that happened in the browser is over. */
  complete(elicitationId: string): Promise<void>;
}

interface FormSchema {
  type: 'object';
  properties: Record<string, { type: 'boolean'; title: string; description: string; default: boolean }>;
  required: string[];
}

export type LinkOutcome =
  | { kind: 'approved'; message: OutboundMessage }
  | { kind: 'changed'; result: MailboxUpdateResult }
  | { kind: 'refused'; error: MailgateError }
  | { kind: 'closed' };

/** One-time approval links (src/http/approval-link.ts). */
export interface LinkIssuer {
  /** The URL for a link secret (its own server starts on first use unless mounted); undefined if it cannot listen here. */
  urlFor(secret: string): Promise<string | undefined>;
  /** Settles when the link is used (approved or refused), expires, or the server closes. */
  track(linkId: string, note: string | null, expiresAt: number): Promise<LinkOutcome>;
}

export interface ConfirmChannel {
  elicitor: Elicitor;
  links?: LinkIssuer | undefined;
  /** The exact terminal command that approves, as this server was started (--db, --config). */
  approveCommand(messageId: string): string;
  /** `--db FILE [--config FILE]` as this server was started, for the other commands a person may be told to run. */
  cliFlags?: readonly string[] | undefined;
}

/** A tool call that approves: who asks, how to reach the person, and the call's cancellation and progress. */
export interface ApprovalCall {
  ctx: AppContext;
  principal: Principal;
  signal: AbortSignal;
  progress(progress: number, total: number | undefined, message: string): Promise<void>;
  confirm: ConfirmChannel;
}

/** Approve through MCP: directly for a session that cannot draft, else only with the person's confirmation. */
export async function approveFromSession(call: ApprovalCall, id: string, a: Approval): Promise<OutboundMessage> {
  const { ctx, principal: who } = call;
  if (!canDraftAndDecide(who.roles)) return approveMessage(ctx, who, id, { ...a, confirmation: 'reviewer_session' });
  if (a.edits && Object.values(a.edits).some((v) => v !== undefined)) {
    throw invalid(
      'edits',
      'edits cannot be confirmed by the person in a session that can also draft mail; approve as drafted, ' +
        'or reject with a reason and send a corrected draft, or let a reviewer-only session approve with edits',
    );
  }
  const m = await getMessageOrThrow(ctx, who, id);
  if (m.status !== 'pending') {
    throw new MailgateError('NOT_PENDING', `cannot approve ${id}: it is ${m.status}, not pending; get_message shows its history`, { field: 'message_id' });
  }
  // Refuse before asking: the person should never be asked to confirm what the rules would refuse.
  await checkFourEyes(ctx, who, m);
  const use = channels(call);
  if (use.url) {
    const outcome = await confirmByLink(call, m, a.note ?? null, call.confirm.links!);
    if (outcome) return outcome;
  }
  if (use.form) return confirmByForm(call, m, a);
  throw new MailgateError(
    'CONFIRMATION_REQUIRED',
    `this session can draft mail as well as approve it, so a person must confirm approving ${id}, and ${cannotAsk(call)}. ` +
      `${id} stays pending. To approve it, the person runs: ${call.confirm.approveCommand(id)}`,
    { field: 'message_id' },
  );
}

/** The channels this call may use: offered by the client, served here, and accepted by `approvals.confirm_with`. */
export function channels(call: ApprovalCall): { url: boolean; form: boolean } {
  const accepted: readonly ConfirmWith[] = call.ctx.settings.confirmWith ?? ['url'];
  const { elicitor, links } = call.confirm;
  return { url: accepted.includes('url') && elicitor.url && links !== undefined, form: accepted.includes('form') && elicitor.form };
}

/** Why the person cannot be asked through this client, for a CONFIRMATION_REQUIRED message. */
export function cannotAsk(call: ApprovalCall): string {
  const accepted = call.ctx.settings.confirmWith ?? ['url'];
  const { elicitor } = call.confirm;
  if (elicitor.url && accepted.includes('url')) return 'no one-time link can be served from this process';
  if (elicitor.form && !accepted.includes('form')) {
    return (
      "this MCP client can ask only with a form, which this server does not take as the person's answer (a client can answer forms by itself; " +
      `config approvals.confirm_with is [${accepted.join(', ')}])`
    );
  }
  return 'this MCP client cannot ask them (it supports no elicitation)';
}

async function confirmByForm(call: ApprovalCall, m: OutboundMessage, a: Approval): Promise<OutboundMessage> {
  const { ctx, principal: who } = call;
  const now = ctx.clock();
  await ctx.store.recordConfirmationRequest({ message_id: m.message_id, actor: who.id, path: 'elicitation_form', content_hash: m.content_hash }, now);
  const answer = await call.confirm.elicitor.askForm(
    `Your assistant asks to approve and send this email. Approve it only if you want it sent as shown.\n\n${summarize(m)}`,
    {
      type: 'object',
      required: ['approve'],
      properties: {
        approve: { type: 'boolean', title: 'Approve and send this email', description: `Sends ${m.message_id} as shown`, default: false },
      },
    },
    timeLeft(m, now),
  );
  if (answer.action !== 'accept' || answer.content?.approve !== true) throw notConfirmed(m, answer.action);
  const current = await getMessageOrThrow(ctx, who, m.message_id);
  if (current.content_hash !== m.content_hash) {
    throw new MailgateError('NOT_CONFIRMED', `${m.message_id} changed while the person was asked, so their answer does not cover it; ask again`, {
      field: 'message_id',
    });
  }
  return approveMessage(ctx, who, m.message_id, { note: a.note, confirmation: 'elicitation_form' });
}

/** What a one-time link confirms, for askByLink: how to record it, and what the client shows with it. */
export interface LinkAsk {
  ttlMs: number;
  /** Kept with the link while this process tracks it (an approval's note). */
  note: string | null;
  /** Records the request and stores the link (its secret as a hash), in one transaction. */
  record(link: { link_id: string; secret_hash: string; expires_at: number }): Promise<void>;
  /** The text the client shows beside the URL. */
  message(expiresAt: number): string;
}

export type LinkResult = LinkOutcome | { kind: 'unavailable' } | { kind: 'declined'; action: string } | { kind: 'waiting'; expiresAt: number };

/**
 * URL mode: makes a link, asks the client to open it, and waits up to LINK_WAIT_MS for the person to use it.
 * `unavailable` when no link can be served here (the caller may fall back to a form).
 */
export async function askByLink(call: ApprovalCall, links: LinkIssuer, ask: LinkAsk): Promise<LinkResult> {
  const { ctx, confirm } = call;
  const secret = newLinkSecret();
  const url = await links.urlFor(secret);
  if (!url) return { kind: 'unavailable' };
  const now = ctx.clock();
  const linkId = newApprovalLinkId();
  const expiresAt = now + ask.ttlMs;
  await ask.record({ link_id: linkId, secret_hash: hashSecret(secret), expires_at: expiresAt });
  const outcome = links.track(linkId, ask.note, expiresAt);
  // Tell the client the browser step is over whenever it ends, even after this call has returned.
  void outcome.then((o) => (o.kind === 'closed' ? undefined : confirm.elicitor.complete(linkId))).catch(() => undefined);
  let answer: Elicited;
  try {
    answer = await confirm.elicitor.askUrl(linkId, url, ask.message(expiresAt), expiresAt - now);
  } catch (err) {
    await ctx.store.spendApprovalLink(linkId, ctx.clock());
    throw err;
  }
  if (answer.action !== 'accept') {
    await ctx.store.spendApprovalLink(linkId, ctx.clock());
    return { kind: 'declined', action: answer.action };
  }
  return (await waitFor(outcome, Math.min(LINK_WAIT_MS, expiresAt - ctx.clock()), call)) ?? { kind: 'waiting', expiresAt };
}

/** URL mode: undefined when no link can be served here (the caller falls back to a form). */
async function confirmByLink(call: ApprovalCall, m: OutboundMessage, note: string | null, links: LinkIssuer): Promise<OutboundMessage | undefined> {
  const { ctx, principal: who, confirm } = call;
  const result = await askByLink(call, links, {
    ttlMs: timeLeft(m, ctx.clock()),
    note,
    record: (link) =>
      ctx.store.recordConfirmationRequest(
        { message_id: m.message_id, actor: who.id, path: 'elicitation_url', content_hash: m.content_hash, link },
        ctx.clock(),
      ),
    message: (expiresAt) =>
      `Review and approve ${m.message_id} (to ${m.to.join(', ') || '(none)'}, subject "${m.subject}") in your browser. ` +
      `The link works once, until ${new Date(expiresAt).toISOString()}.`,
  });
  switch (result.kind) {
    case 'unavailable':
      return undefined;
    case 'approved':
      return result.message;
    case 'refused':
      throw result.error;
    case 'declined':
      throw notConfirmed(m, result.action);
    case 'closed':
      throw new MailgateError('NOT_CONFIRMED', `the approval link for ${m.message_id} expired unused; it stays pending`, { field: 'message_id' });
    case 'changed':
      throw new Error('an approval link applied a mailbox change');
    case 'waiting':
      throw new MailgateError(
        'CONFIRMATION_REQUIRED',
        `awaiting your confirmation in the browser: ${m.message_id} stays pending until you press Approve on the page ` +
          `(the link works until ${new Date(result.expiresAt).toISOString()}). mail_wait or get_message shows when it is approved; ` +
          `do not ask again unless the link expired. From the terminal: ${confirm.approveCommand(m.message_id)}`,
        { field: 'message_id' },
      );
  }
}

/** The outcome, or undefined when `ms` pass or the call is cancelled first; a progress heartbeat every 5 s. */
async function waitFor(outcome: Promise<LinkOutcome>, ms: number, call: ApprovalCall): Promise<LinkOutcome | undefined> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
    onAbort = () => resolve(undefined);
    call.signal.addEventListener('abort', onAbort, { once: true });
    if (call.signal.aborted) resolve(undefined);
  });
  const beat = setInterval(
    () => void call.progress(Math.round((Date.now() - started) / 1000), Math.round(ms / 1000), 'waiting for you to confirm in the browser'),
    5000,
  );
  try {
    return await Promise.race([outcome, stop]);
  } finally {
    clearTimeout(timer);
    clearInterval(beat);
    if (onAbort) call.signal.removeEventListener('abort', onAbort);
  }
}

function timeLeft(m: OutboundMessage, now: number): number {
  return Math.max(1000, Math.min(CONFIRM_TTL_MS, (m.expires_at ?? Infinity) - now));
}

function notConfirmed(m: OutboundMessage, action: string): MailgateError {
  const what = action === 'accept' ? 'did not tick approve' : action === 'decline' ? 'declined' : 'dismissed the request';
  return new MailgateError(
    'NOT_CONFIRMED',
    `the person ${what}, so ${m.message_id} was not approved; it stays pending. Do not ask again unless they tell you to.`,
    { field: 'message_id' },
  );
}

/** The message as the person is asked about it: everything that will be sent. */
function summarize(m: OutboundMessage): string {
  const lines = [`From: ${m.from_addr}`, `To: ${m.to.join(', ') || '(none)'}`];
  if (m.cc.length) lines.push(`Cc: ${m.cc.join(', ')}`);
  if (m.bcc.length) lines.push(`Bcc: ${m.bcc.join(', ')}`);
  lines.push(`Subject: ${m.subject}`);
  const body = m.text ?? (m.html ? `(HTML part, as text)\n${htmlToText(m.html)}` : '');
  const shown = body.length > 1500 ? `${body.slice(0, 1500)}\n[... ${body.length - 1500} more characters]` : body;
  return `${lines.join('\n')}\n----- message -----\n${shown}\n----- end -----\n(${m.message_id}, content sha256 ${m.content_hash.slice(0, 16)}...)`;
}
