/** The approval queue: held messages, oldest first, filtered by mailbox, agent and age. */
import type { Mailbox, OutboundMessage } from '../../store/store.js';
import { ago, bdi, esc, expiry, LIVE, metadataPairs, options } from './layout.js';

const AGES = ['', 'lt1h', 'gt1h', 'gt24h'] as const;
const AGE_LABELS: Record<string, string> = { '': 'any age', lt1h: 'under 1 hour', gt1h: 'over 1 hour', gt24h: 'over 24 hours' };

export interface QueueFilter {
  mailbox: string;
  agent: string;
  age: string;
}

export function filterFrom(q: URLSearchParams): QueueFilter {
  const age = q.get('age') ?? '';
  return { mailbox: q.get('mailbox') ?? '', agent: q.get('agent') ?? '', age: (AGES as readonly string[]).includes(age) ? age : '' };
}

export function applyFilter(messages: OutboundMessage[], f: QueueFilter, now: number): OutboundMessage[] {
  const hour = 3600_000;
  return messages.filter((m) => {
    if (f.agent && m.created_by !== f.agent) return false;
    const age = now - m.created_at;
    if (f.age === 'lt1h') return age < hour;
    if (f.age === 'gt1h') return age >= hour;
    if (f.age === 'gt24h') return age >= 24 * hour;
    return true;
  });
}

/** The table alone: the live-update script swaps it in place. */
export function queueList(messages: OutboundMessage[], now: number): string {
  if (messages.length === 0) return '<p class="muted" data-empty>Nothing is waiting for review.</p>';
  const rows = messages
    .map((m) => {
      const recipients = [...m.to, ...m.cc].map(bdi).join(', ');
      const bcc = m.bcc.length ? ` <span class="flag external">+${m.bcc.length} bcc</span>` : '';
      const hits = m.policy_hits.map((h) => h.code).join(', ');
      const meta = metadataPairs(m.metadata);
      return (
        `<tr data-message="${esc(m.message_id)}"><td class="subject" data-label="Subject"><a href="/messages/${encodeURIComponent(m.message_id)}">${m.subject ? bdi(m.subject) : '(no subject)'}</a>${meta ? `<br>${meta}` : ''}</td>` +
        `<td data-label="Mailbox">${bdi(m.mailbox)}</td><td data-label="To / Cc">${recipients}${bcc}</td><td data-label="Drafted by">${bdi(m.created_by)}</td>` +
        `<td data-label="Age">${esc(ago(m.created_at, now))} ago</td><td class="expiry" data-label="Expires">${m.expires_at === null ? '' : expiry(m.expires_at, now)}</td>` +
        `<td data-label="Why held">${bdi(m.gate_reason)}${hits ? `<br><span class="muted">${esc(hits)}</span>` : ''}</td></tr>`
      );
    })
    .join('');
  return (
    `<table class="queue stack"><thead><tr><th>Subject</th><th>Mailbox</th><th>To / Cc</th><th>Drafted by</th><th>Age</th><th>Expires</th><th>Why held</th></tr></thead>` +
    `<tbody>${rows}</tbody></table><p class="muted">${messages.length} held</p>`
  );
}

/** The queue's keyboard shortcuts (src/dashboard/static-keys.ts); none of them decides anything by itself. */
const KEYS =
  '<p class="muted keys"><kbd>j</kbd> / <kbd>k</kbd> next / previous · <kbd>Enter</kbd> open · ' +
  '<kbd>a</kbd> go to approve · <kbd>r</kbd> go to reject (each still asks you to confirm on the message page)</p>';

/** `held`: the held mailbox actions' table (views/action.ts actionList), below the held mail. */
export function queuePage(all: OutboundMessage[], shown: OutboundMessage[], mailboxes: Mailbox[], f: QueueFilter, now: number, held = ''): string {
  const agents = [...new Set([...all.map((m) => m.created_by), ...(f.agent ? [f.agent] : [])])].sort();
  return `<h1>Held for review</h1>
<form class="filters" method="get" action="/queue">
<label>Mailbox<select name="mailbox">${options(['', ...mailboxes.map((m) => m.address)], f.mailbox, { '': 'all mailboxes' })}</select></label>
<label>Agent<select name="agent">${options(['', ...agents], f.agent, { '': 'all agents' })}</select></label>
<label>Age<select name="age">${options(AGES, f.age, AGE_LABELS)}</select></label>
<button type="submit">Filter</button></form>
<div id="queue-list">${queueList(shown, now)}${held}</div>${LIVE}${KEYS}`;
}
