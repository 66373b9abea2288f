/**
 * The audit trail as a reviewer reads it: one row per event (when, who, what, which mailbox and message) with
 * the event's detail folded into a <details> as labelled values, instead of raw JSON in a narrow column.
 */
import type { VerifyResult } from '../../store/audit.js';
import type { AuditEvent } from '../../store/store.js';
import { bdi, esc, iso } from './layout.js';

function verifyNotice(v: VerifyResult): string {
  return v.ok
    ? `<p class="notice ok" data-chain="ok">Audit chain verified: ${v.events} events${v.head ? `, head #${v.head.seq} <code>${esc(v.head.hash.slice(0, 16))}…</code>` : ''}.</p>`
    : `<p class="notice error" data-chain="broken">Audit chain BROKEN at event #${v.first_bad_seq}: ${esc(v.problem)}. Do not trust events from there on.</p>`;
}

/** A detail value: strings as text, lists of strings joined, anything else as indented JSON. */
function value(v: unknown): string {
  if (typeof v === 'string') return bdi(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return `<code>${esc(String(v))}</code>`;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.length ? v.map(bdi).join(', ') : '<span class="muted">none</span>';
  return `<pre class="detail">${bdi(JSON.stringify(v, null, 2))}</pre>`;
}

function detail(d: Record<string, unknown>): string {
  const keys = Object.keys(d);
  if (!keys.length) return '';
  const rows = keys.map((k) => `<dt>${esc(k)}</dt><dd>${value(d[k])}</dd>`).join('');
  return `<details class="detail"><summary>${keys.length === 1 ? '1 detail' : `${keys.length} details`}</summary><dl class="facts">${rows}</dl></details>`;
}

function where(e: AuditEvent): string {
  const mailbox = e.mailbox ? `<a href="/audit?mailbox=${encodeURIComponent(e.mailbox)}">${bdi(e.mailbox)}</a>` : '';
  const message = e.message_id ? `<a class="id" href="/messages/${encodeURIComponent(e.message_id)}">${esc(e.message_id)}</a>` : '';
  return [mailbox, message].filter(Boolean).join('<br>');
}

export function eventsTable(events: AuditEvent[]): string {
  if (!events.length) return '<p class="muted">No events.</p>';
  const rows = events
    .map(
      (e) =>
        `<tr class="event" data-seq="${e.seq}"><td data-label="When"><time datetime="${esc(new Date(e.at).toISOString())}">${esc(iso(e.at))}</time> <span class="muted">#${e.seq}</span></td>` +
        `<td data-label="Who">${bdi(e.actor)}</td><td data-label="What"><strong class="action">${esc(e.action)}</strong>${detail(e.detail)}</td>` +
        `<td data-label="Where">${where(e)}</td></tr>`,
    )
    .join('');
  return `<table class="audit stack"><thead><tr><th>When</th><th>Who</th><th>What</th><th>Mailbox / message</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function auditPage(scope: { message?: string; mailbox?: string }, events: AuditEvent[], verify: VerifyResult): string {
  const title = scope.message ? `Audit trail of ${bdi(scope.message)}` : scope.mailbox ? `Audit trail of ${bdi(scope.mailbox)}` : 'Latest audit events';
  return `<h1>${title}</h1>${verifyNotice(verify)}
<form class="filters" method="get" action="/audit"><label>Message id<input type="text" name="message" value="${esc(scope.message ?? '')}"></label>
<label>Mailbox<input type="text" name="mailbox" value="${esc(scope.mailbox ?? '')}"></label><button type="submit">Show</button></form>
${eventsTable(events)}`;
}
