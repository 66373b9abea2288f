/** The mailboxes page: each mailbox's mode, an operator's form to change it, and its change history. */
import type { AuditEvent, Mailbox } from '../../store/store.js';
import { formatDuration, OVERSIGHT_MODES } from '../../values.js';
import type { DashSession } from '../session.js';
import { eventsTable } from './audit.js';
import { bdi, csrfField, esc, iso, options } from './layout.js';

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
