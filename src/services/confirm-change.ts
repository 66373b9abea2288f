/**
 * Loosening a mailbox from a session that can also draft mail. Such a session holds a model that could make
 * its own mailbox autonomous and then send anything, so a change that loosens (src/gate/loosening.ts) needs
 * the same person confirmation as approving its mail (src/services/confirm.ts): a one-time link showing the
 * exact change, a form if config `approvals.confirm_with` accepts forms, or else a refusal with the exact CLI
 * command. The CLI and sessions without the agent role change directly; tightening never asks.
 */
import { canDraftAndDecide } from '../auth/principal.js';
import { MailgateError } from '../errors.js';
import { loosenings, type MailboxControls } from '../gate/loosening.js';
import type { MailboxChange, MailboxPatch, MailboxUpdateResult, NewMailbox } from '../store/store.js';
import { type ApprovalCall, askByLink, cannotAsk, channels, CONFIRM_TTL_MS } from './confirm.js';
import type { AppContext, Principal } from './context.js';
import { shellQuote } from '../text/shell.js';

export type ChangeConfirmation = 'cli' | 'operator_session' | 'elicitation_url' | 'elicitation_form';

/** A change to make, with everything needed to judge it and to tell a person how to make it themselves. */
export interface ChangeRequest {
  address: string;
  before: MailboxControls;
  after: MailboxControls;
  change: MailboxChange;
  /** The mailbox's state (mailboxStateHash) the change was computed against. */
  stateHash: string;
  /** `mailgate` arguments that make the same change at the terminal (without --db / --config). */
  cliArgs: readonly string[];
}

/** Makes the change, directly or after the person confirms it, as the rules above say. */
export async function changeMailbox(ctx: AppContext, who: Principal, session: ApprovalCall | undefined, req: ChangeRequest): Promise<MailboxUpdateResult> {
  const loosens = loosenings(req.before, req.after);
  if (loosens.length === 0) return applyMailboxChange(ctx, who.id, req.address, req.change, {});
  if (!canDraftAndDecide(who.roles)) {
    const confirmation = who.id.startsWith('cli:') ? 'cli' : 'operator_session';
    return applyMailboxChange(ctx, who.id, req.address, req.change, { confirmation, loosens });
  }
  const what = `${describe(req, loosens)}`;
  const command = cliCommand(session, req.cliArgs);
  if (!session) {
    throw new MailgateError(
      'CONFIRMATION_REQUIRED',
      `this principal can draft mail as well as change mailboxes, so a person must confirm this loosening (${what}), and it cannot be ` +
        `confirmed here. Nothing changed. Sign in with a principal that cannot draft mail, or have the person run: ${command}`,
      { field: 'address' },
    );
  }
  const use = channels(session);
  if (use.url) {
    const r = await confirmByLink(session, req, loosens, what, command);
    if (r) return r;
  }
  if (use.form) return confirmByForm(session, req, loosens, what);
  throw new MailgateError(
    'CONFIRMATION_REQUIRED',
    `this session can draft mail as well as change mailboxes, so a person must confirm this loosening (${what}), and ${cannotAsk(session)}. ` +
      `Nothing changed. To make the change, the person runs: ${command}`,
    { field: 'address' },
  );
}

/**
 * Applies the change, recording how a loosening was confirmed. With `stateHash` (a person was asked), refused
 * with LINK_INVALID if the mailbox is no longer in the state they were shown.
 */
export async function applyMailboxChange(
  ctx: AppContext,
  actor: string,
  address: string,
  change: MailboxChange,
  how: { stateHash?: string; confirmation?: ChangeConfirmation; loosens?: string[] },
): Promise<MailboxUpdateResult> {
  const opts = {
    ...(how.confirmation ? { detail: { confirmation: how.confirmation, loosens: how.loosens ?? [] } } : {}),
    ...(how.stateHash ? { expectStateHash: how.stateHash } : {}),
  };
  if (change.op === 'create') {
    const mailbox = await ctx.store.createMailbox(change.mailbox as unknown as NewMailbox, actor, ctx.clock(), opts);
    return { mailbox, changed: ['created'], pending_unaffected: 0 };
  }
  return ctx.store.updateMailbox(address, change.patch as MailboxPatch, actor, change.reason, ctx.clock(), opts);
}

async function confirmByLink(
  call: ApprovalCall,
  req: ChangeRequest,
  loosens: string[],
  what: string,
  command: string,
): Promise<MailboxUpdateResult | undefined> {
  const { ctx, principal: who } = call;
  const result = await askByLink(call, call.confirm.links!, {
    ttlMs: CONFIRM_TTL_MS,
    note: null,
    record: (link) =>
      ctx.store.recordChangeConfirmationRequest(
        { mailbox: req.address, actor: who.id, path: 'elicitation_url', change: req.change, loosens, state_hash: req.stateHash, link },
        ctx.clock(),
      ),
    message: (expiresAt) => `Confirm in your browser: ${what}. The link works once, until ${new Date(expiresAt).toISOString()}.`,
  });
  switch (result.kind) {
    case 'unavailable':
      return undefined;
    case 'changed':
      return result.result;
    case 'refused':
      throw result.error;
    case 'declined':
      throw notConfirmed(result.action, what);
    case 'closed':
      throw new MailgateError('NOT_CONFIRMED', `the confirmation link expired unused; nothing changed (${what})`, { field: 'address' });
    case 'approved':
      throw new Error('a change link approved a message');
    case 'waiting':
      throw new MailgateError(
        'CONFIRMATION_REQUIRED',
        `awaiting your confirmation in the browser: nothing changes until you press Confirm on the page (the link works until ` +
          `${new Date(result.expiresAt).toISOString()}); list_mailboxes shows when it is done; do not ask again unless the link expired. ` +
          `From the terminal: ${command}`,
        { field: 'address' },
      );
  }
}

async function confirmByForm(call: ApprovalCall, req: ChangeRequest, loosens: string[], what: string): Promise<MailboxUpdateResult> {
  const { ctx, principal: who } = call;
  await ctx.store.recordChangeConfirmationRequest(
    { mailbox: req.address, actor: who.id, path: 'elicitation_form', change: req.change, loosens, state_hash: req.stateHash },
    ctx.clock(),
  );
  const answer = await call.confirm.elicitor.askForm(
    `Your assistant asks to loosen the oversight of a mailbox: more of its mail could go out without you. Confirm only if you want this.\n\n${what}`,
    {
      type: 'object',
      required: ['confirm'],
      properties: {
        confirm: { type: 'boolean', title: 'Make this change', description: what, default: false },
      },
    },
    CONFIRM_TTL_MS,
  );
  if (answer.action !== 'accept' || answer.content?.confirm !== true) throw notConfirmed(answer.action, what);
  // The mailbox may have changed while the person was asked: the store refuses then (expectStateHash).
  return applyMailboxChange(ctx, who.id, req.address, req.change, { stateHash: req.stateHash, confirmation: 'elicitation_form', loosens });
}

/** The change as the person is asked about it: "mode gated_send -> autonomous on X, reason R". */
function describe(req: ChangeRequest, loosens: readonly string[]): string {
  const verb = req.change.op === 'create' ? `create ${req.address} with` : '';
  const on = req.change.op === 'create' ? '' : ` on ${req.address}`;
  const reason = req.change.op === 'update' ? `, reason "${req.change.reason}"` : '';
  return `${verb ? `${verb} ` : ''}${loosens.join('; ')}${on}${reason}`;
}

function notConfirmed(action: string, what: string): MailgateError {
  const did = action === 'accept' ? 'did not tick the box' : action === 'decline' ? 'declined' : 'dismissed the request';
  return new MailgateError('NOT_CONFIRMED', `the person ${did}, so nothing changed (${what}). Do not ask again unless they tell you to.`, { field: 'address' });
}

/** `mailgate ARGS --db FILE [--config FILE]`, quoted for a POSIX shell, as this server was started. */
function cliCommand(session: ApprovalCall | undefined, args: readonly string[]): string {
  return ['mailgate', ...args, ...(session?.confirm.cliFlags ?? [])].map(shellQuote).join(' ');
}
