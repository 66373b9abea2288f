/**
 * What creating and changing a mailbox checks and records, and what a tightening of its mode takes back.
 * The rows are src/store/mailboxes.ts; these rules run on every backend inside the caller's transaction.
 */
import { MailgateError } from '../errors.js';
import { mailboxStateHash } from '../gate/loosening.js';
import { isTightening } from '../gate/modes.js';
import { appendAudit } from '../store/audit.js';
import * as actions from '../store/mailbox-actions.js';
import * as mailboxes from '../store/mailboxes.js';
import * as messages from '../store/messages.js';
import type { SqlTx } from '../store/sql/types.js';
import type { MailboxPatch, MailboxUpdateOptions, MailboxUpdateResult, NewMailbox } from '../store/store.js';
import { signal, signalMessage } from './signals.js';

export async function createMailboxInTx(
  q: SqlTx,
  m: NewMailbox,
  actor: string,
  now: number,
  opts: Pick<MailboxUpdateOptions, 'detail'> = {},
): Promise<mailboxes.Mailbox> {
  if (await mailboxes.getMailboxRow(q, m.address)) {
    throw new MailgateError('MAILBOX_EXISTS', `mailbox ${m.address} already exists; use update_mailbox to change it`, { field: 'address' });
  }
  const row = { ...m, config_digest: m.config_digest ?? null, created_at: now, updated_at: now };
  await mailboxes.insertMailboxRow(q, row);
  await appendAudit(
    q,
    {
      actor,
      action: 'mailbox.created',
      mailbox: m.address,
      detail: {
        oversight_mode: m.oversight_mode,
        mode_source: m.mode_source,
        auto_approve_rules: m.auto_approve_rules,
        pending_ttl_seconds: m.pending_ttl_seconds,
        transport: m.transport,
        ...opts.detail,
      },
    },
    now,
  );
  signal(q, 'mailbox', m.address);
  return row;
}

export async function updateMailboxInTx(
  q: SqlTx,
  address: string,
  patch: MailboxPatch,
  actor: string,
  reason: string,
  now: number,
  opts: MailboxUpdateOptions = {},
): Promise<MailboxUpdateResult> {
  const before = await mailboxes.getMailboxRow(q, address);
  if (!before) throw await mailboxes.unknownMailbox(q, address);
  if (opts.expectStateHash !== undefined && mailboxStateHash(before) !== opts.expectStateHash) {
    throw new MailgateError(
      'LINK_INVALID',
      `${address} changed after the person was asked to confirm this change, so the confirmation does not cover it; ask again`,
    );
  }
  const after: mailboxes.Mailbox = { ...before, config_digest: opts.configDigest ?? before.config_digest };
  for (const [k, v] of Object.entries(patch)) if (v !== undefined) (after as unknown as Record<string, unknown>)[k] = v;
  const changed = (Object.keys(patch) as (keyof MailboxPatch)[]).filter(
    (k) => patch[k] !== undefined && JSON.stringify(before[k]) !== JSON.stringify(after[k]),
  );
  if (changed.length === 0) {
    if (after.config_digest !== before.config_digest) await mailboxes.setConfigDigest(q, address, after.config_digest);
    return { mailbox: after, changed, pending_unaffected: 0 };
  }
  const pending = (await messages.countPending(q, address)) + (await actions.countPendingActions(q, address));
  after.updated_at = now;
  await mailboxes.updateMailboxRow(q, after);
  // The mode applies to new actions only: held mail stays held whatever the new mode (it is never re-gated).
  const modeChanged = changed.some((k) => k === 'oversight_mode' || k === 'auto_approve_rules' || k === 'mode_source');
  const diff = Object.fromEntries(changed.map((k) => [k, { from: before[k], to: after[k] }]));
  const retaken = isTightening(before.oversight_mode, after.oversight_mode) ? await retakeUnsent(q, after, actor, reason, now) : [];
  await appendAudit(
    q,
    {
      actor,
      mailbox: address,
      action: modeChanged ? 'mailbox.mode_changed' : 'mailbox.updated',
      detail: { changes: diff, reason, pending_unaffected: pending, ...(retaken.length ? { retaken } : {}), ...opts.detail },
    },
    now,
  );
  signal(q, 'mailbox', address);
  return { mailbox: after, changed, pending_unaffected: pending, retaken: retaken.length };
}

/**
 * Tightening applies to everything not yet transmitted (reliability G6): mail the gate itself let go
 * (decided_by IS NULL: no human approved it) that has not reached the final dot goes back to the queue, or
 * is cancelled under read_only. A worker holding one of these loses it at markTransmitting and sends nothing.
 */
async function retakeUnsent(q: SqlTx, mailbox: mailboxes.Mailbox, actor: string, reason: string, now: number): Promise<string[]> {
  const rows = await mailboxes.ungatedUnsent(q, mailbox.address);
  const held = mailbox.oversight_mode !== 'read_only';
  const why = `${mailbox.oversight_mode} mode now applies: ${reason}`;
  const retaken: string[] = [];
  for (const r of rows) {
    const ok = held
      ? await messages.transition(
          q,
          r.message_id,
          [r.status],
          'pending',
          {
            expires_at: now + mailbox.pending_ttl_seconds * 1000,
            approved_hash: null,
            lease_owner: null,
            lease_until: null,
            next_attempt_at: null,
            gate_code: 'mode_requires_approval',
            gate_reason: why,
          },
          now,
        )
      : await messages.transition(
          q,
          r.message_id,
          [r.status],
          'cancelled',
          { decided_at: now, decided_by: actor, decision_reason: why, approved_hash: null, lease_owner: null, lease_until: null, next_attempt_at: null },
          now,
        );
    if (ok) {
      signalMessage(q, mailbox.address, held ? 'pending' : 'cancelled');
      await appendAudit(
        q,
        {
          actor,
          action: held ? 'message.held' : 'message.cancelled',
          mailbox: mailbox.address,
          message_id: r.message_id,
          detail: { reason: why, was: r.status, mode: mailbox.oversight_mode },
        },
        now,
      );
      retaken.push(r.message_id);
    }
  }
  return retaken;
}
