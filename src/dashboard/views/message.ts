/**
 * One message as it will actually be sent: sender, every recipient (bcc set apart, new and external ones
 * flagged), subject, text, the HTML made inert, attachments, the policy rules it hit, the thread it answers;
 * and, while it is held, the forms to approve, approve with edits, or reject it.
 */
import type { InboundEmail, OutboundMessage } from '../../store/store.js';
import { emailFrame } from '../render-email.js';
import { domainOf } from '../../gate/canonical.js';
import type { RecipientFlags } from '../../services/recipients.js';
import type { DashSession } from '../session.js';
import type { ThreadReport } from '../../services/thread-changes.js';
import { badge, bdi, csrfField, esc, expiry, iso, LIVE, metadataPairs, reveal, size } from './layout.js';
import { threadChangesBox } from './thread-changes.js';

export interface MessageView {
  m: OutboundMessage;
  flags: Map<string, RecipientFlags>;
  thread: { email: InboundEmail; snippet: string } | undefined;
  session: DashSession;
  /** Why this session cannot approve here, if it cannot (a token that can also draft mail). */
  approveBlocked: string | undefined;
  /** What the draft changes against its thread (src/services/thread-changes.ts). */
  changes: ThreadReport;
  now: number;
}

function recipientRow(label: string, list: readonly string[], flags: Map<string, RecipientFlags>, cls = ''): string {
  if (list.length === 0) return '';
  const items = list
    .map((a) => {
      const f = flags.get(a);
      const tags = (f?.external ? '<span class="flag external">external</span>' : '') + (f?.isNew ? '<span class="flag new">new</span>' : '');
      return `<span class="recipient">${bdi(a)}${tags}</span>`;
    })
    .join(', ');
  return `<dt${cls ? ` class="${cls}"` : ''}>${esc(label)}</dt><dd${cls ? ` class="${cls}"` : ''}>${items}</dd>`;
}

function facts(v: MessageView): string {
  const { m, flags } = v;
  const bccNote = m.bcc.length ? ' <strong>(hidden from the other recipients)</strong>' : '';
  return `<dl class="facts">
<dt>From</dt><dd>${bdi(m.from_addr)}</dd>
${recipientRow('To', m.to, flags)}${recipientRow('Cc', m.cc, flags)}${m.bcc.length ? recipientRow(`Bcc (${m.bcc.length})`, m.bcc, flags, 'bcc').replace('</dd>', `${bccNote}</dd>`) : ''}
<dt>Subject</dt><dd class="subject-line">${bdi(m.subject)}</dd>
<dt>Status</dt><dd>${badge(m.status)}${m.decided_by ? ` by ${bdi(m.decided_by)} at ${esc(iso(m.decided_at))}` : ''}${m.decision_reason ? `: ${bdi(m.decision_reason)}` : ''}</dd>
<dt>Drafted by</dt><dd>${bdi(m.created_by)} at ${esc(iso(m.created_at))}</dd>
${m.metadata && Object.keys(m.metadata).length ? `<dt>Metadata</dt><dd>${metadataPairs(m.metadata)}</dd>` : ''}
<dt>Why held</dt><dd>${bdi(m.gate_reason)} <span class="muted">(${esc(m.gate_code)}, mode ${esc(m.mode_at_submit)})</span></dd>
${m.expires_at !== null && m.status === 'pending' ? `<dt>Expires</dt><dd class="expiry">${expiry(m.expires_at, v.now)}</dd>` : ''}
${m.sent_at !== null ? `<dt>Sent</dt><dd>${esc(iso(m.sent_at))}</dd>` : ''}${m.last_error ? `<dt>Last error</dt><dd>${bdi(m.last_error)}</dd>` : ''}
${m.original_content ? '<dt>Edited</dt><dd>yes: a reviewer changed it before approving</dd>' : ''}
</dl><p class="muted"><span class="flag external">external</span> outside ${bdi(domainOf(m.mailbox))} · <span class="flag new">new</span> never sent to from this mailbox</p>`;
}

function body(m: OutboundMessage): string {
  // dir=auto isolates the body's direction; revealed controls show text a bidi override would disguise.
  const text = m.text !== null ? `<h2>Text</h2><pre class="email-text" dir="auto">${esc(reveal(m.text))}</pre>` : '';
  const html =
    m.html !== null
      ? `<h2>HTML (rendered inert: no scripts, no remote content)</h2>${emailFrame(m.html)}<details><summary>HTML source as it will be sent</summary><pre dir="auto">${esc(reveal(m.html))}</pre></details>`
      : '';
  const files = m.attachments.length
    ? `<h2>Attachments</h2><table class="stack"><thead><tr><th>Name</th><th>Type</th><th>Size</th></tr></thead><tbody>${m.attachments
        .map(
          (a) =>
            `<tr><td class="filename" data-label="Name">${bdi(a.filename)}</td><td data-label="Type">${bdi(a.content_type)}</td><td data-label="Size">${esc(size(a.size))}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  return text + html + files;
}

function hits(m: OutboundMessage): string {
  if (!m.policy_hits.length) return '';
  return `<h2>Policy rules hit</h2><ul class="hits">${m.policy_hits
    .map((h) => `<li><strong>${esc(h.code)}</strong> (${esc(h.effect)}, ${esc(h.rule)}): ${bdi(h.reason)}</li>`)
    .join('')}</ul>`;
}

function thread(v: MessageView): string {
  if (!v.thread) return v.m.reply_to_email_id ? `<h2>In reply to</h2><p class="muted">${bdi(v.m.reply_to_email_id)} (no longer stored)</p>` : '';
  const e = v.thread.email;
  return (
    `<h2>In reply to</h2><dl class="facts thread"><dt>From</dt><dd>${e.from_name ? `${bdi(e.from_name)} &lt;${bdi(e.from_addr)}&gt;` : bdi(e.from_addr)}</dd>` +
    `<dt>Subject</dt><dd>${bdi(e.subject)}</dd><dt>Received</dt><dd>${esc(iso(e.date))}</dd><dt>Begins</dt><dd>${bdi(v.thread.snippet)}</dd></dl>`
  );
}

function actions(v: MessageView): string {
  const { m, session } = v;
  if (m.status !== 'pending') return '';
  const id = encodeURIComponent(m.message_id);
  const approve = v.approveBlocked
    ? `<div class="card" id="approve" tabindex="-1"><strong>Approve</strong><p class="muted">${esc(v.approveBlocked)}</p></div>`
    : `<form method="post" action="/messages/${id}/approve" id="approve" tabindex="-1">${csrfField(session)}<strong>Approve as shown</strong>
<label for="note">Note (optional)</label><input class="wide" type="text" id="note" name="note" maxlength="1000">
<p><button class="approve" type="submit" name="do" value="approve">Approve and send</button></p></form>
<form method="post" action="/messages/${id}/approve">${csrfField(session)}<input type="hidden" name="edit" value="1"><strong>Approve with edits</strong>
<label for="e-to">To (comma-separated)</label><input class="wide" type="text" id="e-to" name="to" value="${esc(m.to.join(', '))}">
<label for="e-cc">Cc</label><input class="wide" type="text" id="e-cc" name="cc" value="${esc(m.cc.join(', '))}">
<label for="e-bcc">Bcc</label><input class="wide" type="text" id="e-bcc" name="bcc" value="${esc(m.bcc.join(', '))}">
<label for="e-subject">Subject</label><input class="wide" type="text" id="e-subject" name="subject" dir="auto" value="${esc(m.subject)}">
<label for="e-text">Text</label><textarea id="e-text" name="text" dir="auto">${esc(m.text ?? '')}</textarea>
${m.html !== null ? '<label><input type="checkbox" name="drop_html" value="1"> Send the text only (drop the HTML part, which the edits do not change)</label>' : ''}
<p><button class="approve" type="submit">Approve with these edits</button></p></form>`;
  return `<h2>Decide</h2><div class="actions">${approve}
<form method="post" action="/messages/${id}/reject" id="reject">${csrfField(session)}<strong>Reject</strong>
<label for="reason">Reason (kept in the audit log)</label><textarea id="reason" name="reason" required maxlength="2000"></textarea>
<p><button class="reject" type="submit">Reject</button></p></form></div>`;
}

function pendingUntil(v: MessageView): string {
  return v.m.status === 'pending' && v.m.expires_at !== null ? ` · <strong>expires</strong> ${expiry(v.m.expires_at, v.now)}` : '';
}

export function messagePage(v: MessageView): string {
  const { m } = v;
  return `<div data-message-id="${esc(m.message_id)}" data-status="${esc(m.status)}">
<p class="muted">${esc(m.kind)} from mailbox ${bdi(m.mailbox)} · ${esc(m.message_id)}${pendingUntil(v)} · <a href="/audit?message=${encodeURIComponent(m.message_id)}">audit trail</a></p>
<h1>${m.subject ? bdi(m.subject) : '(no subject)'}</h1>${LIVE}${threadChangesBox(v.changes)}${facts(v)}${hits(m)}${thread(v)}${body(m)}${actions(v)}</div>`;
}
