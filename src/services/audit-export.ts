/**
 * The auditor's export: one JSON object per line, first the chain's verification result, then one record
 * per outbound message with what an auditor asks for: who drafted it and when, what the gate decided and
 * why, what the reviewer saw (the content hash they approved, and both versions when they edited), who
 * decided, the reason, how long the decision took, and the delivery result, with the message's audit events
 * and their hashes so each record can be matched to the verified chain.
 */
import { automatedDecisionOf } from '../gate/policy/index.js';
import type { AuditEvent, OutboundMessage } from '../store/store.js';
import type { AppContext, Principal } from './context.js';
import { requireRole } from './context.js';
import { getMailboxOrThrow, scopeFilter } from './scope.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export async function* exportAudit(
  ctx: AppContext,
  who: Principal,
  /** automatedDecisions: only drafts marked as automated decisions about a person (GDPR Art. 22), for a DPA. */
  q: { mailbox?: string | undefined; since?: number | undefined; automatedDecisions?: boolean | undefined },
): AsyncGenerator<Record<string, unknown>> {
  await requireRole(ctx, who, ['reviewer', 'operator'], 'exporting the audit log');
  const mailbox = q.mailbox ? (await getMailboxOrThrow(ctx, who, q.mailbox)).address : undefined;
  yield { type: 'chain', exported_at: iso(ctx.clock()), ...(await ctx.store.verifyAudit()) };
  for (const m of await ctx.store.listMessages({ mailbox, mailboxes: scopeFilter(who), since: q.since })) {
    if (q.automatedDecisions && !automatedDecisionOf(m.metadata)) continue;
    yield messageRecord(m, await ctx.store.audit({ message_id: m.message_id, limit: 10_000 }));
  }
}

function messageRecord(m: OutboundMessage, events: AuditEvent[]): Record<string, unknown> {
  const decision = events.find((e) => ['message.approved', 'message.rejected', 'message.cancelled', 'message.expired'].includes(e.action));
  const edited = events.find((e) => e.action === 'message.edited');
  const outcome = [...events].reverse().find((e) => ['message.sent', 'message.failed', 'message.outcome_unknown'].includes(e.action));
  return {
    type: 'message',
    message_id: m.message_id,
    mailbox: m.mailbox,
    kind: m.kind,
    agent: m.created_by,
    drafted_at: iso(m.created_at),
    recipients: { to: m.to, cc: m.cc, bcc: m.bcc },
    subject: m.subject,
    metadata: m.metadata ?? null,
    // GDPR Art. 22: the agent's mark that the message states an automated decision about a person.
    classification: classificationOf(m),
    gate: { mode_at_submit: m.mode_at_submit, code: m.gate_code, reason: m.gate_reason, rule: m.gate_rule },
    reviewer_saw:
      decision?.action === 'message.approved'
        ? // `edited` says whether the reviewer changed the draft; the two versions are `original` and `approved`
          // (one key each: an `edited` object beside the `edited` flag silently replaced the flag).
          {
            content_hash: decision.detail.content_hash ?? m.content_hash,
            edited: !!edited,
            ...(edited ? { original: edited.detail.original, approved: edited.detail.edited } : {}),
          }
        : null,
    decision: decision
      ? {
          action: decision.action.replace('message.', ''),
          by: decision.actor,
          at: iso(decision.at),
          reason: decision.detail.reason ?? null,
          time_to_decide_ms: decision.at - m.created_at,
        }
      : null,
    delivery: {
      status: m.status,
      attempts: m.attempts,
      sent_at: iso(m.sent_at),
      last_error: m.last_error,
      smtp_response: m.smtp_response,
      result_event: outcome ? { action: outcome.action, at: iso(outcome.at) } : null,
    },
    events: events.map((e) => ({ seq: e.seq, at: iso(e.at), action: e.action, actor: e.actor, hash: e.hash })),
  };
}

function classificationOf(m: OutboundMessage): { automated_decision: true; decision_type: string } | null {
  const d = automatedDecisionOf(m.metadata);
  return d ? { automated_decision: true, decision_type: d.type } : null;
}
