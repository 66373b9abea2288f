/**
 * The message operations with the most rules: submit (idempotency, facts, gate, insert, audit), decide
 * (approve / reject / cancel as one compare-and-set) and expiry. Each runs inside the caller's transaction,
 * on either backend, through the store's primitives.
 */
import { MailgateError } from '../errors.js';
import { attachmentSha256, messageHash } from '../gate/approval-binding.js';
import { resolvePolicy } from '../gate/policy/index.js';
import type { Decision } from '../gate/types.js';
import { insertAttachments } from '../store/attachments.js';
import { appendAudit } from '../store/audit.js';
import * as mailboxes from '../store/mailboxes.js';
import * as messages from '../store/messages.js';
import { policyFacts, recordRecipients } from '../store/policy-facts.js';
import type { SqlTx } from '../store/sql/types.js';
import type { DecideRequest, GateFn, NewAttachment, SubmitRequest, SubmitResult } from '../store/store.js';
import { signalMessage } from './signals.js';

export async function submitInTx(q: SqlTx, req: SubmitRequest, gate: GateFn, now: number): Promise<SubmitResult> {
  const mailbox = await mailboxes.getMailboxRow(q, req.mailbox);
  if (!mailbox) throw await mailboxes.unknownMailbox(q, req.mailbox);
  const attachments = (req.attachments ?? []).map(attachmentMeta);
  const hash = messageHash(
    { kind: req.kind, mailbox: mailbox.address, reply_to_email_id: req.reply_to_email_id ?? null, tag_action: req.tag_action ?? null, attachments },
    req.content,
  );

  if (req.idempotency_key) {
    const prior = await messages.findByIdempotencyKey(q, req.mailbox, req.idempotency_key);
    if (prior) {
      if (submittedHash(prior) !== hash) {
        throw new MailgateError(
          'IDEMPOTENCY_CONFLICT',
          `idempotency_key '${req.idempotency_key}' was already used for ${prior.message_id} with different content; use a new key for a new message`,
          { field: 'idempotency_key', details: { message_id: prior.message_id } },
        );
      }
      return { message: prior, decision: recordedDecision(prior), replayed: true };
    }
  }

  const recipients = [...new Set([...req.content.to, ...req.content.cc, ...req.content.bcc])];
  const limits = resolvePolicy(req.policy, mailbox.policy);
  const sorted = (l: readonly string[]) => [...l].sort();
  const dedupeHash = messageHash(
    { kind: req.kind, mailbox: mailbox.address, reply_to_email_id: req.reply_to_email_id ?? null, tag_action: req.tag_action ?? null, attachments },
    { ...req.content, to: sorted(req.content.to), cc: sorted(req.content.cc), bcc: sorted(req.content.bcc) },
  );
  const knownContacts = await mailboxes.knownCorrespondents(q, mailbox.address, recipients);
  const contactLists = await mailboxes.contactLists(q);
  const policy = await policyFacts(q, limits, { mailbox: mailbox.address, recipients, hash: dedupeHash, now });
  const decision = gate(mailbox, { knownContacts, contactLists, policy }, limits);
  const status = decision.outcome === 'execute' ? 'queued' : decision.outcome === 'hold' ? 'pending' : 'blocked';
  const message: messages.OutboundMessage = {
    message_id: req.message_id,
    mailbox: mailbox.address,
    kind: req.kind,
    status,
    from_addr: mailbox.address,
    ...req.content,
    tag_action: req.tag_action ?? null,
    reply_to_email_id: req.reply_to_email_id ?? null,
    message_id_header: req.message_id_header,
    in_reply_to_header: req.in_reply_to_header ?? null,
    references_header: req.references_header ?? null,
    metadata: req.metadata ?? null,
    content_hash: hash,
    idempotency_key: req.idempotency_key ?? null,
    created_by: req.actor,
    mode_at_submit: mailbox.oversight_mode,
    gate_code: decision.code,
    gate_reason: decision.reason,
    gate_rule: decision.outcome === 'execute' ? (decision.rule ?? null) : null,
    notify: decision.outcome === 'execute' && decision.notify,
    created_at: now,
    expires_at: status === 'pending' ? now + mailbox.pending_ttl_seconds * 1000 : null,
    decided_at: null,
    decided_by: null,
    decision_reason: null,
    original_content: null,
    attempts: 0,
    next_attempt_at: status === 'queued' ? now : null,
    lease_owner: null,
    lease_until: null,
    last_error: null,
    transmitting_at: null,
    smtp_response: null,
    sent_at: null,
    updated_at: now,
    policy_hits: decision.hits ?? [],
    // Mail the gate lets go is approved by the gate, for exactly this content.
    approved_hash: status === 'queued' ? hash : null,
    thread_key: req.thread_key ?? null,
    attachments,
    dedupe_hash: dedupeHash,
  };
  await messages.insertMessageRow(q, message);
  // A refused draft keeps the list of its files (for the audit) but not their bytes.
  if (status !== 'blocked') {
    await insertAttachments(q, message.message_id, req.attachments ?? [], attachments);
    await recordRecipients(q, message, recipients);
  }
  await appendAudit(
    q,
    {
      actor: req.actor,
      action: status === 'blocked' ? 'message.blocked' : status === 'pending' ? 'message.held' : 'message.submitted',
      mailbox: mailbox.address,
      message_id: message.message_id,
      email_id: req.tag_action?.email_id ?? req.reply_to_email_id ?? null,
      detail: {
        kind: req.kind,
        to: message.to,
        cc: message.cc,
        bcc: message.bcc,
        subject: message.subject,
        content_hash: message.content_hash,
        mode: mailbox.oversight_mode,
        mode_source: mailbox.mode_source,
        gate: { outcome: decision.outcome, code: decision.code, reason: decision.reason, rule: message.gate_rule },
        ...(message.policy_hits.length ? { policy_hits: message.policy_hits } : {}),
        ...(attachments.length ? { attachments } : {}),
        ...(message.tag_action ? { tag_action: message.tag_action } : {}),
        ...(message.expires_at ? { expires_at: message.expires_at } : {}),
      },
    },
    now,
  );
  if (message.notify) {
    // monitored mode: the send goes ahead and people are told (the audit event becomes an email.monitored webhook).
    await appendAudit(
      q,
      { actor: 'system:monitor', action: 'message.notified', mailbox: mailbox.address, message_id: message.message_id, detail: { event: 'email.monitored' } },
      now,
    );
  }
  signalMessage(q, mailbox.address, status);
  return { message, decision, replayed: false };
}

/** The hash of the content as the agent submitted it (before any reviewer edits), for idempotent replays. */
function submittedHash(m: messages.OutboundMessage): string {
  if (!m.original_content) return m.content_hash;
  return messageHash(m, m.original_content);
}

function recordedDecision(m: messages.OutboundMessage): Decision {
  const hits = m.policy_hits.length ? { hits: m.policy_hits } : {};
  const code = m.gate_code as Decision['code'];
  if (code === 'mode_allows' || code === 'auto_approved') {
    return { outcome: 'execute', code, reason: m.gate_reason, notify: m.notify, ...(m.gate_rule ? { rule: m.gate_rule } : {}), ...hits };
  }
  // The first recorded status tells hold from block (a held message may since have been decided).
  return m.status === 'blocked' ? { outcome: 'block', code, reason: m.gate_reason, ...hits } : { outcome: 'hold', code, reason: m.gate_reason, ...hits };
}

function attachmentMeta(a: NewAttachment): messages.AttachmentMeta {
  return { filename: a.filename, content_type: a.content_type, size: a.content.length, sha256: attachmentSha256(a.content) };
}

type DecideResult = { ok: true; value: messages.OutboundMessage } | { ok: false; error: MailgateError };

export async function decideInTx(q: SqlTx, id: string, req: DecideRequest, now: number): Promise<DecideResult> {
  const m = await messages.getMessageRow(q, id);
  if (!m) {
    return { ok: false, error: new MailgateError('UNKNOWN_MESSAGE', `no outbound message '${id}'; list_pending shows the held ones`, { field: 'message_id' }) };
  }
  if (m.status === 'pending' && m.expires_at !== null && m.expires_at <= now) {
    // Expiry is a decision too: record it now, so the late approval loses cleanly and the state is true.
    await expire(q, m, now);
    return { ok: false, error: notPending(id, 'expired', req.action) };
  }
  if (m.status !== 'pending') return { ok: false, error: notPending(id, m.status, req.action) };

  const detail: Record<string, unknown> = {};
  let set: Record<string, unknown> = { decided_at: now, decided_by: req.actor };
  if (req.action === 'approve') {
    // The approval binds to this exact content: the worker re-hashes what it is about to send against it.
    set = { ...set, decision_reason: req.note ?? null, next_attempt_at: now, approved_hash: m.content_hash };
    const edits = req.edits ?? {};
    const changed = (Object.keys(edits) as (keyof messages.MessageContent)[]).filter(
      (k) => edits[k] !== undefined && JSON.stringify(edits[k]) !== JSON.stringify(m[k]),
    );
    if (changed.length > 0) {
      const original: messages.MessageContent = { to: m.to, cc: m.cc, bcc: m.bcc, subject: m.subject, text: m.text, html: m.html };
      const edited = { ...original, ...Object.fromEntries(changed.map((k) => [k, edits[k]])) } as messages.MessageContent;
      const hash = messageHash(m, edited);
      set = {
        ...set,
        approved_hash: hash,
        original_content: JSON.stringify(original),
        to_addrs: JSON.stringify(edited.to),
        cc_addrs: JSON.stringify(edited.cc),
        bcc_addrs: JSON.stringify(edited.bcc),
        subject: edited.subject,
        text_body: edited.text,
        html_body: edited.html,
        content_hash: hash,
      };
      detail.edited_fields = changed;
      detail.original = original;
      detail.edited = edited;
    }
  } else {
    set.decision_reason = req.action === 'reject' ? req.reason : (req.reason ?? null);
  }
  const to = req.action === 'approve' ? 'approved' : req.action === 'reject' ? 'rejected' : 'cancelled';
  // Compare-and-set on status and expiry: exactly one of approve, reject, cancel and expiry wins.
  // Only pending mail is decided (TRANSITIONS also lets queued and sending mail be cancelled, by a retake).
  if (!(await messages.transition(q, id, ['pending'], to, set, now, { where: 'AND expires_at > @now' }))) {
    const current = await messages.getMessageRow(q, id);
    return { ok: false, error: notPending(id, current?.status ?? 'unknown', req.action) };
  }
  signalMessage(q, m.mailbox, to);
  if (detail.edited_fields) {
    await appendAudit(q, { actor: req.actor, action: 'message.edited', mailbox: m.mailbox, message_id: id, detail }, now);
  }
  await appendAudit(
    q,
    {
      actor: req.actor,
      action: to === 'approved' ? 'message.approved' : to === 'rejected' ? 'message.rejected' : 'message.cancelled',
      mailbox: m.mailbox,
      message_id: id,
      detail: {
        reason: (set.decision_reason as string | null) ?? null,
        content_hash: (set.content_hash as string | undefined) ?? m.content_hash,
        edited: !!detail.edited_fields,
        waited_ms: now - m.created_at,
        ...(req.action === 'approve' && req.confirmation ? { confirmation: req.confirmation } : {}),
      },
    },
    now,
  );
  return { ok: true, value: (await messages.getMessageRow(q, id))! };
}

/** Marks a pending message expired (compare-and-set) and audits it; false when it was decided first. */
async function expire(q: SqlTx, m: messages.OutboundMessage, now: number): Promise<boolean> {
  if (!(await messages.transition(q, m.message_id, null, 'expired', { decided_at: now, decided_by: 'system:expiry' }, now))) return false;
  signalMessage(q, m.mailbox, 'expired');
  await appendAudit(
    q,
    { actor: 'system:expiry', action: 'message.expired', mailbox: m.mailbox, message_id: m.message_id, detail: { expires_at: m.expires_at } },
    now,
  );
  return true;
}

/** Expires held messages past their expiry, at most `limit`; each expired one as it is now. */
export async function expireDue(q: SqlTx, now: number, limit: number): Promise<messages.OutboundMessage[]> {
  const expired: messages.OutboundMessage[] = [];
  for (const m of await messages.dueForExpiry(q, now, limit)) {
    if (await expire(q, m, now)) expired.push((await messages.getMessageRow(q, m.message_id))!);
  }
  return expired;
}

export function notPending(id: string, status: string, action: string): MailgateError {
  return new MailgateError('NOT_PENDING', `cannot ${action} ${id}: it is ${status}, not pending; get_message shows its history`, {
    field: 'message_id',
    details: { status },
  });
}
