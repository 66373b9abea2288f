/**
 * A held mailbox action (tag_email in gated_all) as a reviewer decides it: which email (sender, subject,
 * folder), which flags are added or removed, which folder it moves to; and, while it is held, approve or reject.
 */
import type { InboundEmail, MailboxAction } from '../../store/store.js';
import type { DashSession } from '../session.js';
import { ago, badge, bdi, csrfField, esc, expiry, iso, LIVE } from './layout.js';

export interface ActionPageView {
  a: MailboxAction;
  email: InboundEmail | undefined;
  session: DashSession;
  approveBlocked?: string | undefined;
  now: number;
}

const list = (xs: readonly string[]) => (xs.length ? xs.map(bdi).join(', ') : '<span class="muted">none</span>');

export function actionPage(v: ActionPageView): string {
  const { a, email } = v;
  const id = encodeURIComponent(a.action_id);
  const about = email
    ? `<dt>From</dt><dd>${bdi(email.from_addr)}</dd><dt>Subject</dt><dd>${bdi(email.subject)}</dd><dt>Folder</dt><dd>${bdi(email.folder)}</dd>`
    : `<dt>Email</dt><dd>${esc(a.email_id)} <span class="muted">(no longer in the cache)</span></dd>`;
  const decide =
    a.status !== 'pending'
      ? ''
      : `<h2>Decide</h2><div class="actions">${
          v.approveBlocked
            ? `<div class="card" id="approve" tabindex="-1"><strong>Approve</strong><p class="muted">${esc(v.approveBlocked)}</p></div>`
            : `<form method="post" action="/messages/${id}/approve" id="approve" tabindex="-1">${csrfField(v.session)}<strong>Approve</strong>
<label for="note">Note (optional)</label><input class="wide" type="text" id="note" name="note" maxlength="1000">
<p><button class="approve" type="submit" name="do" value="approve">Approve and apply</button></p></form>`
        }
<form method="post" action="/messages/${id}/reject" id="reject">${csrfField(v.session)}<strong>Reject</strong>
<label for="reason">Reason (kept in the audit log)</label><textarea id="reason" name="reason" required maxlength="2000"></textarea>
<p><button class="reject" type="submit">Reject</button></p></form></div>`;
  return `<div data-message-id="${esc(a.action_id)}" data-status="${esc(a.status)}">
<p class="muted">mailbox action in ${bdi(a.mailbox)} · ${esc(a.action_id)}${a.status === 'pending' && a.expires_at !== null ? ` · <strong>expires</strong> ${expiry(a.expires_at, v.now)}` : ''} · <a href="/audit?message=${id}">audit trail</a></p>
<h1>Change an email ${badge(a.status)}</h1>${LIVE}
<dl class="facts">${about}<dt>Add flags</dt><dd>${list(a.action.add_flags)}</dd><dt>Remove flags</dt><dd>${list(a.action.remove_flags)}</dd>
<dt>Move to</dt><dd>${a.action.move_to ? bdi(a.action.move_to) : '<span class="muted">stays where it is</span>'}</dd>
${a.action.delete ? `<dt>Delete</dt><dd>${a.action.delete === 'permanent' ? '<strong>permanently</strong>' : 'move to the Trash'}</dd>` : ''}
<dt>Requested by</dt><dd>${bdi(a.created_by)}, ${esc(ago(a.created_at, v.now))} ago</dd><dt>Why held</dt><dd>${bdi(a.gate_reason)}</dd>
${a.decided_by ? `<dt>Decided by</dt><dd>${bdi(a.decided_by)} at ${esc(iso(a.decided_at))}${a.decision_reason ? `: ${bdi(a.decision_reason)}` : ''}</dd>` : ''}
${a.last_error ? `<dt>Error</dt><dd>${bdi(a.last_error)}</dd>` : ''}</dl>${decide}</div>`;
}

/** The held actions on the queue page, below the held mail. */
export function actionList(actions: readonly MailboxAction[], now: number): string {
  if (actions.length === 0) return '';
  const rows = actions
    .map(
      (a) =>
        `<tr data-message="${esc(a.action_id)}"><td data-label="Action"><a href="/messages/${encodeURIComponent(a.action_id)}">${esc(a.action_id)}</a></td>` +
        `<td data-label="Mailbox">${bdi(a.mailbox)}</td><td data-label="Change">${[
          a.action.add_flags.length ? `add ${a.action.add_flags.map(bdi).join(', ')}` : '',
          a.action.remove_flags.length ? `remove ${a.action.remove_flags.map(bdi).join(', ')}` : '',
          a.action.move_to ? `move to ${bdi(a.action.move_to)}` : '',
          a.action.delete ? (a.action.delete === 'permanent' ? 'delete permanently' : 'move to Trash') : '',
        ]
          .filter(Boolean)
          .join('; ')}</td><td data-label="Requested by">${bdi(a.created_by)}</td><td data-label="Age">${esc(ago(a.created_at, now))} ago</td>` +
        `<td class="expiry" data-label="Expires">${a.expires_at === null ? '' : expiry(a.expires_at, now)}</td></tr>`,
    )
    .join('');
  return (
    `<h2>Held mailbox actions</h2><table class="stack"><thead><tr><th>Action</th><th>Mailbox</th><th>Change</th><th>Requested by</th><th>Age</th><th>Expires</th></tr></thead>` +
    `<tbody>${rows}</tbody></table>`
  );
}
