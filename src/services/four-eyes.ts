/**
 * The four-eyes rule (policy `four_eyes`, global or per mailbox): whoever drafted a message may not approve
 * it. "Whoever" is the person behind the principal (src/auth/principal.ts personOf): a token's name, or the
 * CLI's --as name, so one token in two clients, or a token and its owner at the terminal, count as one.
 */
import { personOf } from '../auth/principal.js';
import { MailgateError } from '../errors.js';
import { resolvePolicy } from '../gate/policy/index.js';
import type { AppContext, Principal } from './context.js';

/** `m`: a held message or a held mailbox action. */
export async function checkFourEyes(
  ctx: AppContext,
  approver: Principal,
  m: { created_by: string; mailbox: string; message_id?: string; action_id?: string },
): Promise<void> {
  const id = m.message_id ?? m.action_id ?? '';
  if (personOf(m.created_by) !== personOf(approver.id)) return;
  const mailbox = await ctx.store.getMailbox(m.mailbox);
  if (!resolvePolicy(ctx.settings.policy, mailbox?.policy).fourEyes) return;
  throw new MailgateError(
    'FORBIDDEN',
    `four-eyes rule on ${m.mailbox}: ${id} was drafted by ${m.created_by}, so ${personOf(approver.id)} may not approve it; ` +
      `a different person must: another reviewer's token session, or someone else at the terminal ('mailgate approve ${id} --as THEIR_NAME')`,
    { field: 'message_id' },
  );
}
