/**
 * The page frame and small shared pieces. Everything shown comes from mail a model drafted or an outsider
 * sent, so every value goes through `esc`; no view builds markup from unescaped data.
 */
import { escapeHtml as esc } from '../../http/approval-page.js';
import type { DashSession } from '../session.js';

export { esc };

export interface Flash {
  kind: 'ok' | 'error' | 'info';
  text: string;
}

export function layout(title: string, body: string, s?: DashSession, flash?: Flash): string {
  const nav = s
    ? `<a href="/queue">Queue</a><a href="/mailboxes">Mailboxes</a><a href="/audit">Audit</a>` +
      `<span class="who">signed in as ${esc(s.principal.id)} (${esc(s.principal.roles.join(', '))})</span>` +
      `<form method="post" action="/logout">${csrfField(s)}<button type="submit">Sign out</button></form>`
    : '';
  const note = flash ? `<p class="notice ${flash.kind}" role="status">${esc(flash.text)}</p>` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<meta name="referrer" content="same-origin"><title>${esc(title)} · mailgate</title>` +
    `<link rel="stylesheet" href="/static/app.css"><script src="/static/app.js" defer></script></head>` +
    `<body><header><a class="brand" href="/queue">mailgate</a>${nav}</header><main>${note}${body}</main></body></html>`;
}

export function csrfField(s: DashSession): string {
  return `<input type="hidden" name="csrf" value="${esc(s.csrf)}">`;
}

export function iso(ms: number | null): string {
  return ms === null ? '' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** "3 min", "5 h", "2 d": how long ago (or, for a future time, how long until). */
export function ago(ms: number, now: number): string {
  const s = Math.abs(now - ms) / 1000;
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
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
  return layout('Sign in', `<div class="login"><h1>Sign in to review mail</h1>
<form method="post" action="/login"><label for="token">Reviewer or operator token</label>
<input type="password" id="token" name="token" autocomplete="off" required placeholder="mgt_..."><p><button class="approve" type="submit">Sign in</button></p></form>
<p class="muted">Create one at the terminal: <code>mailgate token create --role reviewer --name YOUR_NAME</code>. Agent tokens cannot sign in.</p></div>`,
  undefined, error ? { kind: 'error', text: error } : undefined);
}

/** The element the live-update script reports into (it exists only on pages that update). */
export const LIVE = '<p id="live" class="muted" aria-live="polite"></p>';
