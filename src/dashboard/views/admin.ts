/** The audit trail (of a message, a mailbox, or the latest events) with the chain's status, and the mailboxes. */
import type { AuditEvent, Mailbox } from '../../store/store.js';
import type { VerifyResult } from '../../store/audit.js';
import { formatDuration, OVERSIGHT_MODES } from '../../values.js';
import type { DashSession } from '../session.js';
import { bdi, csrfField, esc, iso, options } from './layout.js';

function verifyNotice(v: VerifyResult): string {
  return v.ok
    ? `<p class="notice ok" data-chain="ok">Audit chain verified: ${v.events} events${v.head ? `, head #${v.head.seq} <code>${esc(v.head.hash.slice(0, 16))}…</code>` : ''}.</p>`
    : `<p class="notice error" data-chain="broken">Audit chain BROKEN at event #${v.first_bad_seq}: ${esc(v.problem)}. Do not trust events from there on.</p>`;
}

function eventsTable(events: AuditEvent[]): string {
  if (!events.length) return '<p class="muted">No events.</p>';
  const rows = events
    .map(
      (e) =>
        `<tr><td>${e.seq}</td><td>${esc(iso(e.at))}</td><td>${bdi(e.actor)}</td><td>${esc(e.action)}</td>` +
        `<td>${e.mailbox ? `<a href="/audit?mailbox=${encodeURIComponent(e.mailbox)}">${bdi(e.mailbox)}</a>` : ''}</td>` +
        `<td>${e.message_id ? `<a href="/messages/${encodeURIComponent(e.message_id)}">${esc(e.message_id)}</a>` : ''}</td>` +
        `<td><code class="detail">${bdi(JSON.stringify(e.detail))}</code></td></tr>`,
    )
    .join('');
  return `<table class="audit"><thead><tr><th>#</th><th>At</th><th>Actor</th><th>Action</th><th>Mailbox</th><th>Message</th><th>Detail</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function auditPage(scope: { message?: string; mailbox?: string }, events: AuditEvent[], verify: VerifyResult): string {
  const title = scope.message ? `Audit trail of ${bdi(scope.message)}` : scope.mailbox ? `Audit trail of ${bdi(scope.mailbox)}` : 'Latest audit events';
  return `<h1>${title}</h1>${verifyNotice(verify)}
<form class="filters" method="get" action="/audit"><label>Message id<input type="text" name="message" value="${esc(scope.message ?? '')}"></label>
<label>Mailbox<input type="text" name="mailbox" value="${esc(scope.mailbox ?? '')}"></label><button type="submit">Show</button></form>
${eventsTable(events)}`;
}

export function mailboxesPage(mailboxes: { mailbox: Mailbox; history: AuditEvent[] }[], s: DashSession): string {
  const operator = s.principal.roles.includes('operator');
  const sections = mailboxes
    .map(({ mailbox: m, history }) => {
      const form = operator
        ? `<form class="card" method="post" action="/mailboxes/mode">${csrfField(s)}<input type="hidden" name="address" value="${esc(m.address)}">
<label>New mode<select name="mode">${options(OVERSIGHT_MODES, m.oversight_mode)}</select></label>
<label>Reason (kept in the audit log)<input class="wide" type="text" name="reason" required maxlength="1000"></label>
<p><button type="submit">Change mode</button></p></form>`
        : '<p class="muted">Only an operator can change modes.</p>';
      return `<h2 id="${esc(m.address)}">${bdi(m.address)}</h2><dl class="facts"><dt>Mode</dt><dd><strong class="mode">${esc(m.oversight_mode)}</strong> <span class="muted">(${esc(m.mode_source)})</span></dd>
<dt>Held mail expires</dt><dd>after ${esc(formatDuration(m.pending_ttl_seconds))}</dd><dt>Transport</dt><dd>${esc(m.transport)}</dd><dt>Changed</dt><dd>${esc(iso(m.updated_at))}</dd></dl>
${form}<h3>Change history</h3>${eventsTable(history)}`;
    })
    .join('');
  return `<h1>Mailboxes</h1>${sections}`;
}
