/**
 * The dashboard's only stylesheet and script, served from /static so the page CSP needs no inline code.
 * Kept as strings so the build (tsc) ships them without a copy step.
 */
import { KEYS_JS } from './static-keys.js';

export const CSS = `*{box-sizing:border-box}
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#16181d;background:#f6f7f9}
header{display:flex;flex-wrap:wrap;align-items:center;gap:.4rem 1.5rem;padding:.6rem 1.5rem;background:#1d2733;color:#fff}
header a{color:#dfe7f1;text-decoration:none}header a:hover{color:#fff}
header .brand{font-weight:700;color:#fff}header .who{margin-left:auto;color:#aab6c4;font-size:.9rem;min-width:0;overflow-wrap:anywhere}
header form{margin:0}header button{background:transparent;border:1px solid #56657a;color:#dfe7f1;padding:.2rem .7rem}
main{max-width:72rem;margin:1.5rem auto;padding:0 1.5rem}
h1{font-size:1.4rem;margin:.2rem 0 1rem;word-break:break-word}h2{font-size:1.1rem;margin:1.6rem 0 .6rem}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #dde1e6}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #eceef1;vertical-align:top;overflow-wrap:anywhere}
th{background:#eef1f4;font-weight:600;font-size:.85rem}
td.subject a{font-weight:600;color:#11365e;word-break:break-word}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:4px;font-size:.8rem;background:#e5e8ec}
.badge.pending{background:#fff1c2}.badge.sent{background:#cdeccd}.badge.rejected,.badge.failed,.badge.expired{background:#f6d0d0}
.flag{display:inline-block;padding:0 .35rem;margin-left:.3rem;border-radius:3px;font-size:.75rem;font-weight:600}
.flag.external{background:#ffe2b8;color:#7a4100}.flag.new{background:#d9e6ff;color:#173e8a}
.bcc{background:#fff4e0;border-left:4px solid #e08a00}
dl.facts{display:grid;grid-template-columns:9rem minmax(0,1fr);gap:.3rem .8rem;background:#fff;border:1px solid #dde1e6;padding:.8rem;margin:0}
dl.facts dt{font-weight:600}dl.facts dd{margin:0;overflow-wrap:anywhere}
pre{white-space:pre-wrap;word-break:break-word;background:#fff;border:1px solid #dde1e6;padding:.8rem;max-height:30rem;overflow:auto;margin:0}
iframe.email-html{display:block;width:100%;max-height:70vh;border:1px solid #dde1e6;background:#fff}
.muted{color:#5b6573;font-size:.9rem}.links code{word-break:break-all}
.metadata .meta{display:inline-block;margin:.1rem .4rem .1rem 0;padding:0 .3rem;background:#eef1f5;border-radius:3px;font-size:.85rem;overflow-wrap:anywhere}
.filters{display:flex;gap:.8rem;align-items:end;flex-wrap:wrap;margin-bottom:1rem}
.filters label{display:flex;flex-direction:column;font-size:.8rem;color:#5b6573}
input,select,textarea,button{font:inherit;max-width:100%}input[type=text],input[type=password],textarea,select{padding:.35rem;border:1px solid #b9c1cb;border-radius:4px;background:#fff}
textarea{width:100%;min-height:7rem}input.wide{width:100%}
button{padding:.4rem 1rem;border-radius:4px;border:1px solid #8894a3;background:#fff;cursor:pointer}
button.approve{background:#0a6d2c;border-color:#0a6d2c;color:#fff}button.reject{background:#a11c1c;border-color:#a11c1c;color:#fff}
.actions{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(18rem,100%),1fr));gap:1rem;margin-top:1rem}
.actions form,.card{background:#fff;border:1px solid #dde1e6;padding:.8rem;border-radius:4px}
.actions label,.card label{display:block;font-size:.85rem;margin:.4rem 0 .15rem}
.notice{padding:.6rem .9rem;border-radius:4px;margin:0 0 1rem;background:#e3effd;border:1px solid #a9c6ee}
.notice.error{background:#fde4e4;border-color:#eba7a7}.notice.ok{background:#def3de;border-color:#9fd39f}
.hits li{margin:.2rem 0}.login{max-width:26rem;margin:4rem auto}.login input{width:100%}
code.detail{font-size:.8rem;word-break:break-all}
.thread-changes{padding:.7rem 1rem;border-radius:4px;margin:0 0 1rem;border:1px solid #a9c6ee;background:#e3effd}
.thread-changes.warn{background:#fff1e6;border:2px solid #d9480f}.thread-changes.warn h2{color:#a3300a;margin-top:0}
.thread-changes.ok{background:#def3de;border-color:#9fd39f}.thread-changes h2{font-size:1.05rem;margin:0 0 .4rem}
.thread-changes ul{margin:.3rem 0;padding-left:1.2rem}.thread-changes li{margin:.2rem 0}.thread-changes code{font-size:1rem;word-break:break-all}
time.expires.soon{color:#a11c1c;font-weight:600}
main,h1,.muted,.notice{overflow-wrap:anywhere}
tr.selected td{background:#e6effc}tr.selected td:first-child{box-shadow:inset 4px 0 #2a64b8}
form:target,.card:target{outline:3px solid #2a64b8;outline-offset:2px}
kbd{font:600 .8rem ui-monospace,monospace;border:1px solid #b9c1cb;border-bottom-width:2px;border-radius:3px;padding:0 .3rem;background:#fff}
table.audit details summary{cursor:pointer;color:#11365e;font-size:.85rem}table.audit details dl.facts{margin-top:.4rem;grid-template-columns:auto minmax(0,1fr);font-size:.85rem}
table.audit pre.detail{max-height:15rem;padding:.4rem;font-size:.8rem}a.id{font-size:.85rem;overflow-wrap:anywhere}
@media (max-width:480px){
header{padding:.5rem .8rem;gap:.3rem 1rem}header .who{margin-left:0;flex-basis:100%;order:5}
main{padding:0 .7rem;margin:1rem auto}h1{font-size:1.2rem}
table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:100%}
table.stack thead{display:none}table.stack tr{padding:.4rem 0;border-bottom:1px solid #dde1e6}
table.stack td{border:0;padding:.15rem .7rem}
table.stack td[data-label]::before{content:attr(data-label);display:block;font-size:.72rem;font-weight:600;color:#5b6573;text-transform:uppercase}
dl.facts{grid-template-columns:minmax(0,1fr);gap:0}dl.facts dd{margin-bottom:.4rem}
.keys{display:none}
}
`;

/** The icon, served at /favicon.svg (same origin, so the page CSP's img-src 'self' covers it). */
export const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1d2733"/>' +
  '<path d="M6 10h20v13H6z" fill="#dfe7f1"/><path d="M6 10l10 8 10-8" fill="none" stroke="#1d2733" stroke-width="2"/>' +
  '<circle cx="24" cy="23" r="6" fill="#0a6d2c"/><path d="M21 23l2 2 4-4" fill="none" stroke="#fff" stroke-width="2"/></svg>';

/**
 * Live updates: the server's /events stream says "something changed"; the queue reloads its list, and a
 * message page shows a note when its message's status moved (decided elsewhere, delivered, expired).
 */
const LIVE_JS = `(() => {
  'use strict';
  const live = document.getElementById('live');
  if (!live || !window.EventSource) return;
  const queue = document.getElementById('queue-list');
  const message = document.querySelector('[data-message-id]');
  const events = new EventSource('/events');
  let busy = false;
  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      if (queue) {
        const url = new URL(location.href);
        url.searchParams.set('fragment', '1');
        const r = await fetch(url, { credentials: 'same-origin' });
        if (r.ok) {
          queue.innerHTML = await r.text();
          live.textContent = 'updated ' + new Date().toLocaleTimeString();
          document.dispatchEvent(new Event('mailgate:queue'));
        }
      } else if (message) {
        const id = message.getAttribute('data-message-id');
        const r = await fetch('/messages/' + encodeURIComponent(id) + '/status', { credentials: 'same-origin' });
        if (!r.ok) return;
        const { status } = await r.json();
        if (status !== message.getAttribute('data-status')) {
          live.textContent = 'This message is now ' + status + '. Reload to see it.';
          live.className = 'notice';
        }
      }
    } finally {
      busy = false;
    }
  }
  events.addEventListener('change', () => { void refresh(); });
})();
`;

export const JS = LIVE_JS + KEYS_JS;
