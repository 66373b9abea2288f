/**
 * `mailgate approve`: the approval is recorded, and then this process tries the delivery at once. The exit code
 * says whether what the person asked for happened (issue 12): a script that approves and moves on must not
 * take "approved, delivery failed" for "sent".
 */
import type { App } from '../app.js';
import type { Principal } from '../services/context.js';
import { approveItem, type ReviewItem } from '../services/actions.js';
import { toActionDetail } from '../present/actions.js';
import { toMessageDetail } from '../present/records.js';
import { ReviewId } from '../values.js';
import { invalid } from '../errors.js';
import { shellQuote } from '../text/shell.js';
import { printJson, printLine } from './output.js';

/** README "Command line": approved, but the delivery that followed failed or may not have happened. */
const EXIT_NOT_DELIVERED = 5;

interface Outcome {
  code: number;
  /** One line for stdout: the status. */
  status: string;
  /** What happened beyond the status and what to do next; stderr, so --json output stays parseable. */
  note?: string;
}

/** How an approved item stands once this process's delivery attempt is over; `cli` holds --db/--config. */
function approvalOutcome(item: ReviewItem, cli: readonly string[]): Outcome {
  const id = 'action_id' in item ? item.action_id : item.message_id;
  const err = item.last_error ? ` (${item.last_error})` : '';
  const status = `${id}: ${item.status}${err}`;
  const flags = cli.map(shellQuote).join(' ');
  const at = item.next_attempt_at == null ? 'soon' : `at ${new Date(item.next_attempt_at).toISOString()}`;
  switch (item.status) {
    case 'failed':
      return {
        code: EXIT_NOT_DELIVERED,
        status,
        note:
          'action_id' in item
            ? `approved ${id}, but applying it failed${err}; nothing more will be tried. Check the mailbox, then ask the agent to do it again`
            : `approved ${id}, but its delivery failed${err}; it was not sent. To send it, draft it again: it needs its own approval`,
      };
    case 'outcome_unknown':
      return {
        code: EXIT_NOT_DELIVERED,
        status,
        note:
          `approved ${id}, but the delivery's outcome is unknown${err}: the server may have taken it. It is not retried, ` +
          `so it is never sent twice. Check the recipient's side or the server's logs for its Message-ID, then run: ` +
          `mailgate resolve ${id} --delivered|--not-delivered --reason TEXT${flags ? ` ${flags}` : ''}`,
      };
    case 'queued':
    case 'approved':
      // Accepted: a temporary failure schedules a retry, which the delivery worker of any running mailgate makes.
      return item.attempts > 0 && item.last_error
        ? { code: 0, status, note: `approved ${id}: accepted; delivery failed temporarily, retry ${item.attempts + 1} is scheduled ${at}` }
        : { code: 0, status, note: `approved ${id}: accepted; queued for delivery ${at}` };
    default:
      return { code: 0, status };
  }
}

export async function approveCommand(
  app: App,
  who: Principal,
  args: string[],
  flags: { json?: boolean | undefined; note?: string | undefined },
  cli: readonly string[],
): Promise<number> {
  const parsed = ReviewId.safeParse(args[0] ?? '');
  if (!parsed.success) throw invalid('message id', parsed.error.issues.map((i) => i.message).join('; '));
  const item = await approveItem(app, who, parsed.data, { note: flags.note ?? null });
  const outcome = approvalOutcome(item, cli);
  if (flags.json) printJson('action_id' in item ? toActionDetail(item) : toMessageDetail(item));
  else printLine(outcome.status);
  if (outcome.note) process.stderr.write(`mailgate: ${outcome.note}\n`);
  return outcome.code;
}
