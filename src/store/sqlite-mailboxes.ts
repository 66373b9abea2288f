/**
 * The SQLite backend, mailboxes: creating and changing them (a tightening takes back unsent mail), contact
 * lists and correspondents.
 */
import { MailgateError } from '../errors.js';
import { appendAudit } from './audit.js';
import { stmt } from './db.js';
import * as mailboxes from './mailboxes.js';
import * as messages from './messages.js';
import type { MailboxPatch, MailboxUpdateOptions, NewMailbox } from './store.js';
import { isTightening } from '../gate/modes.js';
import { mailboxStateHash } from '../gate/loosening.js';
import * as actions from './mailbox-actions.js';
import { SqliteBase } from './sqlite-base.js';

export abstract class SqliteMailboxes extends SqliteBase {
  listMailboxes() {
    return this.read(() => mailboxes.listMailboxRows(this.db));
  }
  getMailbox(address: string) {
    return this.read(() => mailboxes.getMailboxRow(this.db, address));
  }

  createMailbox(m: NewMailbox, actor: string, now: number, opts: Pick<MailboxUpdateOptions, 'detail'> = {}) {
    return this.tx(() => {
      if (mailboxes.getMailboxRow(this.db, m.address)) {
        throw new MailgateError('MAILBOX_EXISTS', `mailbox ${m.address} already exists; use update_mailbox to change it`, { field: 'address' });
      }
      const row = { ...m, config_digest: m.config_digest ?? null, created_at: now, updated_at: now };
      mailboxes.insertMailboxRow(this.db, row);
      appendAudit(
        this.db,
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
      return row;
    });
  }

  updateMailbox(address: string, patch: MailboxPatch, actor: string, reason: string, now: number, opts: MailboxUpdateOptions = {}) {
    return this.tx(() => {
      const before = mailboxes.getMailboxRow(this.db, address);
      if (!before) throw mailboxes.unknownMailbox(this.db, address);
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
        if (after.config_digest !== before.config_digest) mailboxes.setConfigDigest(this.db, address, after.config_digest);
        return { mailbox: after, changed, pending_unaffected: 0 };
      }
      const pending = messages.countPending(this.db, address) + actions.countPendingActions(this.db, address);
      after.updated_at = now;
      mailboxes.updateMailboxRow(this.db, after);
      // The mode applies to new actions only: held mail stays held whatever the new mode (it is never re-gated).
      const modeChanged = changed.some((k) => k === 'oversight_mode' || k === 'auto_approve_rules' || k === 'mode_source');
      const diff = Object.fromEntries(changed.map((k) => [k, { from: before[k], to: after[k] }]));
      const retaken = isTightening(before.oversight_mode, after.oversight_mode) ? this.retakeUnsent(after, actor, reason, now) : [];
      appendAudit(
        this.db,
        {
          actor,
          mailbox: address,
          action: modeChanged ? 'mailbox.mode_changed' : 'mailbox.updated',
          detail: { changes: diff, reason, pending_unaffected: pending, ...(retaken.length ? { retaken } : {}), ...opts.detail },
        },
        now,
      );
      return { mailbox: after, changed, pending_unaffected: pending, retaken: retaken.length };
    });
  }

  /**
   * Tightening applies to everything not yet transmitted (reliability G6): mail the gate itself let go
   * (decided_by IS NULL: no human approved it) that has not reached the final dot goes back to the queue, or
   * is cancelled under read_only. A worker holding one of these loses it at markTransmitting and sends nothing.
   */
  private retakeUnsent(mailbox: mailboxes.Mailbox, actor: string, reason: string, now: number): string[] {
    const rows = stmt(
      this.db,
      `SELECT message_id, status FROM messages WHERE mailbox = ? AND status IN ('queued', 'sending')
                                AND decided_by IS NULL AND transmitting_at IS NULL`,
    ).all(mailbox.address) as { message_id: string; status: 'queued' | 'sending' }[];
    const held = mailbox.oversight_mode !== 'read_only';
    const why = `${mailbox.oversight_mode} mode now applies: ${reason}`;
    return rows
      .filter((r) => {
        const ok = held
          ? messages.transition(
              this.db,
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
          : messages.transition(
              this.db,
              r.message_id,
              [r.status],
              'cancelled',
              { decided_at: now, decided_by: actor, decision_reason: why, approved_hash: null, lease_owner: null, lease_until: null, next_attempt_at: null },
              now,
            );
        if (ok) {
          appendAudit(
            this.db,
            {
              actor,
              action: held ? 'message.held' : 'message.cancelled',
              mailbox: mailbox.address,
              message_id: r.message_id,
              detail: { reason: why, was: r.status, mode: mailbox.oversight_mode },
            },
            now,
          );
        }
        return ok;
      })
      .map((r) => r.message_id);
  }

  lastMailboxChange(address: string) {
    return this.read(() => mailboxes.lastMailboxChange(this.db, address));
  }

  knownCorrespondents(mailbox: string, addresses: readonly string[]) {
    return this.read(() => mailboxes.knownCorrespondents(this.db, mailbox, addresses));
  }

  setContactLists(lists: Record<string, readonly string[]>) {
    return this.tx(() => mailboxes.replaceContactLists(this.db, lists));
  }
}
