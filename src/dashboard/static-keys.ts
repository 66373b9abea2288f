/**
 * The rest of app.js: keyboard shortcuts on the queue, and the email frame's height.
 *
 * Shortcuts only move a selection or open a page: j / k (or the arrow keys) select the next / previous held
 * item (its link takes the focus, so Enter opens it), a opens its approve form and r its reject form. Nothing is decided by a key: the
 * approve form is only scrolled to and outlined (its button still has to be pressed, and the POST carries the
 * form's CSRF token as any other), and r puts the cursor in the reason a rejection requires. Keys typed into
 * a field, or with Ctrl, Alt or Meta, are left alone.
 */
export const KEYS_JS = `(() => {
  'use strict';
  const list = document.getElementById('queue-list');
  const typing = (t) => t instanceof Element && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  if (list) {
    let current = null;
    const rows = () => Array.from(list.querySelectorAll('tr[data-message]'));
    const mark = () => {
      for (const r of rows()) {
        const on = r.getAttribute('data-message') === current;
        r.classList.toggle('selected', on);
        if (on) r.setAttribute('aria-current', 'true');
        else r.removeAttribute('aria-current');
      }
    };
    const move = (step) => {
      const rs = rows();
      if (!rs.length) return;
      const i = rs.findIndex((r) => r.getAttribute('data-message') === current);
      const row = rs[i < 0 ? (step > 0 ? 0 : rs.length - 1) : Math.min(rs.length - 1, Math.max(0, i + step))];
      current = row.getAttribute('data-message');
      mark();
      row.scrollIntoView({ block: 'nearest' });
      const link = row.querySelector('a');
      if (link) link.focus({ preventScroll: true });
    };
    const open = (hash) => {
      if (current && rows().some((r) => r.getAttribute('data-message') === current))
        location.href = '/messages/' + encodeURIComponent(current) + hash;
    };
    // Enter needs no handler: the selected row's link has the focus.
    const keys = { j: () => move(1), ArrowDown: () => move(1), k: () => move(-1), ArrowUp: () => move(-1),
      a: () => open('#approve'), r: () => open('#reject') };
    document.addEventListener('keydown', (e) => {
      if (e.defaultPrevented || e.ctrlKey || e.altKey || e.metaKey || typing(e.target)) return;
      const act = Object.prototype.hasOwnProperty.call(keys, e.key) ? keys[e.key] : undefined;
      if (!act) return;
      e.preventDefault();
      act();
    });
    document.addEventListener('mailgate:queue', mark);
  }
  // Arriving from a shortcut: show the form; the reason box takes the cursor, the approve form only the focus.
  const target = location.hash === '#approve' || location.hash === '#reject' ? document.getElementById(location.hash.slice(1)) : null;
  // Again after load: the browser's own scroll to the fragment moves the focus back to the page.
  const show = () => {
    target.scrollIntoView({ block: 'center' });
    const reason = target.querySelector('textarea[name=reason]');
    (reason || target).focus({ preventScroll: true });
  };
  if (target) { show(); window.addEventListener('load', () => setTimeout(show, 0)); }
  const fit = (f) => {
    const blocks = (f.getAttribute('data-fit') || '').split(' ').filter(Boolean).map(Number);
    const perLine = Math.max(16, Math.floor((f.clientWidth - 20) / 8));
    const lines = blocks.reduce((n, len) => n + Math.ceil(len / perLine), 0);
    const px = 40 + lines * 19 + blocks.length * 14 + Number(f.getAttribute('data-images') || 0);
    f.height = String(Math.max(64, Math.min(2000, px)));
  };
  const frames = Array.from(document.querySelectorAll('iframe.email-html[data-fit]'));
  const fitAll = () => frames.forEach(fit);
  if (frames.length) { fitAll(); window.addEventListener('resize', fitAll); }
})();
`;
