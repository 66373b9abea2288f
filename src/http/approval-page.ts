/**
 * The link pages' HTML (approving a message, confirming a mailbox change). Everything from the message (addresses, subject, body) is drafted by a model or
 * an outside sender, so all of it is escaped; the page loads nothing (no scripts, no images, no fonts).
 */
import { htmlToVisibleText } from '../text/visible-html.js';
import type { ChangeLink, OutboundMessage } from '../store/store.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#111}
dl{display:grid;grid-template-columns:6rem 1fr;gap:.25rem .75rem}dt{font-weight:600}dd{margin:0;word-break:break-all}
pre{white-space:pre-wrap;word-break:break-word;background:#f4f4f4;padding:1rem;border-radius:6px;max-height:28rem;overflow:auto}
button{font-size:1rem;padding:.6rem 1.4rem;background:#0a6d2c;color:#fff;border:0;border-radius:6px;cursor:pointer}
.note{color:#555;font-size:.9rem}`;

function page(title: string, body: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>` +
    `<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`
  );
}

/** The message as it would be sent, and an Approve button that POSTs with the link's CSRF token. */
export function reviewPage(m: OutboundMessage, csrf: string, expiresAt: number): string {
  const row = (k: string, v: string) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`;
  const rows = [row('From', m.from_addr), row('To', m.to.join(', ') || '(none)')];
  if (m.cc.length) rows.push(row('Cc', m.cc.join(', ')));
  if (m.bcc.length) rows.push(row('Bcc', m.bcc.join(', ')));
  rows.push(row('Subject', m.subject), row('Message', m.message_id));
  const text = m.text !== null ? `<pre>${escapeHtml(m.text)}</pre>` : '';
  // Text hidden from view is shown marked [hidden: ...], so a draft hides nothing from its reviewer; the source
  // below shows everything that will be sent.
  const html =
    m.html !== null
      ? `<p class="note">HTML part, shown as text:</p><pre>${escapeHtml(htmlToVisibleText(m.html, { showHidden: true }).text)}</pre>` +
        `<details><summary>HTML source (as sent)</summary><pre>${escapeHtml(m.html)}</pre></details>`
      : '';
  return page(
    'Approve this email?',
    `<p>Your assistant asked to approve and send this email. Approve it only if you want it sent exactly as shown.</p>
<dl>${rows.join('')}</dl>${text}${html}
<form method="post"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><button type="submit">Approve and send</button></form>
<p class="note">This link works once, until ${escapeHtml(new Date(expiresAt).toISOString())}. To refuse, close this page; the message stays held.
Content sha256 ${escapeHtml(m.content_hash)}.</p>`,
  );
}

/** The exact change a change link applies, and a Confirm button that POSTs with the link's CSRF token. */
export function changePage(link: ChangeLink, csrf: string): string {
  const c = link.change;
  const reason = c.op === 'update' ? `<dt>Reason</dt><dd>${escapeHtml(c.reason)}</dd>` : '';
  const full = c.op === 'update' ? c.patch : c.mailbox;
  return page(
    c.op === 'create' ? 'Create this mailbox?' : 'Loosen this mailbox?',
    `<p>Your assistant asked for a change that lets more mail from
<strong>${escapeHtml(link.mailbox)}</strong> go out without your approval. Confirm it only if you want exactly this.</p>
<ul>${link.loosens.map((l) => `<li>${escapeHtml(`${l}${c.op === 'update' ? ` on ${link.mailbox}` : ''}`)}</li>`).join('')}</ul>
<dl><dt>Mailbox</dt><dd>${escapeHtml(link.mailbox)}</dd>${reason}<dt>Asked by</dt><dd>${escapeHtml(link.requested_by)}</dd></dl>
<details><summary>The whole change</summary><pre>${escapeHtml(JSON.stringify(full, null, 2))}</pre></details>
<form method="post"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><button type="submit">Confirm</button></form>
<p class="note">This link works once, until ${escapeHtml(new Date(link.expires_at).toISOString())}, and only while the mailbox is as it was
when asked. To refuse, close this page; nothing changes.</p>`,
  );
}

export function resultPage(title: string, text: string): string {
  return page(title, `<p>${escapeHtml(text)}</p><p class="note">You can close this page.</p>`);
}
