/**
 * The page frame and small shared pieces. Everything shown comes from mail a model drafted or an outsider
 * sent, so every value goes through `esc`; no view builds markup from unescaped data.
 */
import { escapeHtml as esc } from '../../http/approval-page.js';
import type { DashSession } from '../session.js';

export { esc };

/**
 * Characters that reorder or hide text: bidi embeddings, overrides and isolates, marks, zero-width and tag
 * characters. `invoice<U+202E>fdp.exe` renders as "invoiceexe.pdf"; shown as marks it cannot pass for a PDF.
 */
const HIDDEN_CONTROLS = /[\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]|[\u{E0000}-\u{E007F}]/gu;

/** The text with every bidi or invisible control shown as a visible mark such as `⟨U+202E⟩`. */
export function reveal(s: string): string {
  return s.replace(HIDDEN_CONTROLS, (c) => `⟨U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}⟩`);
}

/**
 * A value from mail (address, name, subject, file name) for the page: controls revealed, escaped, and in a
 * <bdi>, so right-to-left text in it cannot reorder the text around it either.
 */
export function bdi(s: string): string {
  return `<bdi>${esc(reveal(s))}</bdi>`;
}

export interface Flash {
  kind: 'ok' | 'error' | 'info';
  text: string;
}

export function layout(title: string, body: string, s?: DashSession, flash?: Flash): string {
  const nav = s
    ? `<a href="/queue">Queue</a><a href="/mailboxes">Mailboxes</a><a href="/audit">Audit</a>` +
      `<span class="who">signed in as ${bdi(s.principal.id)} (${esc(s.principal.roles.join(', '))})</span>` +
      `<form method="post" action="/logout">${csrfField(s)}<button type="submit">Sign out</button></form>`
    : '';
  const note = flash ? `<p class="notice ${flash.kind}" role="status">${esc(flash.text)}</p>` : '';
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta name="referrer" content="same-origin"><title>${esc(reveal(title))} · mailgate</title>` +
    `<link rel="icon" href="/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/static/app.css"><script src="/static/app.js" defer></script></head>` +
    `<body><header><a class="brand" href="/queue">mailgate</a>${nav}</header><main>${note}${body}</main></body></html>`
  );
}

export function csrfField(s: DashSession): string {
  return `<input type="hidden" name="csrf" value="${esc(s.csrf)}">`;
}

export function iso(ms: number | null): string {
  return ms === null
    ? ''
    : new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');
}

/** "3 min", "5 h", "2 d": how long ago (or, for a future time, how long until). */
export function ago(ms: number, now: number): string {
  const s = Math.abs(now - ms) / 1000;
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

/** How long until a future time, to the minute: "in 2 h 10 min", "in 3 d 4 h", or "5 min ago" once past. */
export function until(ms: number, now: number): string {
  const min = Math.round(Math.abs(ms - now) / 60_000);
  const [d, h, m] = [Math.floor(min / 1440), Math.floor((min % 1440) / 60), min % 60];
  const span = d ? `${d} d${h ? ` ${h} h` : ''}` : h ? `${h} h${m ? ` ${m} min` : ''}` : min ? `${m} min` : 'under a minute';
  return ms >= now ? `in ${span}` : `${span} ago`;
}

/** An expiry for a reviewer: the absolute time (UTC) and how long is left. */
export function expiry(ms: number, now: number): string {
  return (
    `<time class="expires${ms - now < 3600_000 ? ' soon' : ''}" datetime="${esc(new Date(ms).toISOString())}">${esc(iso(ms))}</time> ` +
    `<span class="until">(${ms > now ? esc(until(ms, now)) : `expired ${esc(until(ms, now))}`})</span>`
  );
}

/**
 * The agent's metadata (send_email `metadata`) as `key=value` chips. Keys and values are the model's text, so
 * both are escaped with controls revealed, like every other value here. Empty for none.
 */
export function metadataPairs(metadata: Record<string, unknown> | null): string {
  const pairs = Object.entries(metadata ?? {});
  if (pairs.length === 0) return '';
  return `<span class="metadata">${pairs
    .map(([k, v]) => `<span class="meta" data-key="${esc(k)}"><code>${bdi(k)}</code>=<code>${bdi(typeof v === 'string' ? v : JSON.stringify(v))}</code></span>`)
    .join(' ')}</span>`;
}

export function badge(status: string): string {
  return `<span class="badge ${esc(status)}">${esc(status)}</span>`;
}

export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function options(values: readonly string[], selected: string, labels: Record<string, string> = {}): string {
  return values.map((v) => `<option value="${esc(v)}"${v === selected ? ' selected' : ''}>${esc(labels[v] ?? v)}</option>`).join('');
}

export function loginPage(error?: string): string {
  return layout(
    'Sign in',
    `<div class="login"><h1>Sign in to review mail</h1>
<form method="post" action="/login"><label for="token">Reviewer or operator token</label>
<input type="password" id="token" name="token" autocomplete="off" required placeholder="mgt_..."><p><button class="approve" type="submit">Sign in</button></p></form>
<p class="muted">Create one at the terminal: <code>mailgate token create --role reviewer --name YOUR_NAME</code>. Agent tokens cannot sign in.</p></div>`,
    undefined,
    error ? { kind: 'error', text: error } : undefined,
  );
}

/** The element the live-update script reports into (it exists only on pages that update). */
export const LIVE = '<p id="live" class="muted" aria-live="polite"></p>';
