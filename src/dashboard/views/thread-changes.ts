/**
 * The box at the top of a message page: what the draft changes against the thread it replies to (new
 * recipients, link domains, account numbers; links that show one site and go to another). It comes first
 * because a routine-looking reply that swaps the bank details reads as routine everywhere else on the page.
 */
import type { ThreadChange, ThreadChangeKind, ThreadChangeWhere } from '../../gate/thread-changes.js';
import type { ThreadReport } from '../../services/thread-changes.js';
import { bdi, esc } from './layout.js';

const LABEL: Record<ThreadChangeKind, string> = {
  new_iban: 'New IBAN',
  new_card_number: 'New card number',
  new_routing_number: 'New routing number',
  new_bic: 'New BIC / SWIFT code',
  new_account_number: 'New account number',
  link_text_mismatch: 'Link shows one site but goes to another',
  new_recipient: 'New recipient',
  new_link_domain: 'New link domain',
};

const WHERE: Record<ThreadChangeWhere, string> = {
  to: 'in To',
  cc: 'in Cc',
  bcc: 'in Bcc',
  subject: 'in the subject',
  text: 'in the text',
  html: 'in the HTML',
};

/** IBANs and card numbers in groups of four, as people read and compare them. */
function shown(c: ThreadChange): string {
  return c.kind === 'new_iban' || c.kind === 'new_card_number' ? c.value.replace(/(.{4})(?=.)/g, '$1 ') : c.value;
}

function item(c: ThreadChange): string {
  return (
    `<li data-kind="${esc(c.kind)}" data-value="${esc(c.value)}"><strong>${esc(LABEL[c.kind])}</strong> <code>${bdi(shown(c))}</code> ` +
    `<span class="muted">${esc(WHERE[c.where])}</span></li>`
  );
}

export function threadChangesBox(r: ThreadReport): string {
  const list = r.changes.length ? `<ul>${r.changes.map(item).join('')}</ul>` : '';
  const attrs = `data-thread-changes="${r.changes.length}" data-compared="${r.compared}"`;
  if (!r.compared) {
    const cls = r.changes.length ? 'warn' : 'info';
    return (
      `<section class="thread-changes ${cls}" ${attrs}><h2>Not a reply</h2><p>There is no thread to compare this message with, so new ` +
      `recipients, links and account numbers cannot be told apart from known ones. Only links whose text shows another site than ` +
      `they go to are checked${r.changes.length ? ':' : ', and there are none.'}</p>${list}</section>`
    );
  }
  const missing = r.replyMissing ? '<p class="muted">The email it replies to is no longer stored: compared with what remains of the thread.</p>' : '';
  if (!r.changes.length) {
    return `<section class="thread-changes ok" ${attrs}><p>Against the thread it replies to: no new recipients, link domains or account numbers.</p>${missing}</section>`;
  }
  const money = r.changes.some((c) => c.kind.startsWith('new_') && !['new_recipient', 'new_link_domain'].includes(c.kind))
    ? ' Payment details that change by email are the most common fraud: confirm them with the correspondent through a channel you already trust before approving.'
    : '';
  return (
    `<section class="thread-changes warn" ${attrs}><h2>Changed against the thread it replies to</h2>${list}` +
    `<p class="muted">None of these appear anywhere in the thread.${money}</p>${missing}</section>`
  );
}
