/**
 * search_email's filters on the sandbox through a real SDK client: each filter narrows alone and combined with
 * the free-text query, a filter alone needs no query, nothing at all is refused, and a folder the sandbox
 * mailbox does not have is answered with the folders it has (check_inbox says the same).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, inbox, ok, send, startHarness, textOf } from './harness.js';

const ME = 'me@t.test';
const ANNA = 'anna@t.test';
const BORIS = 'boris@t.test';

let h: Harness;
const ids: Record<string, string> = {};
beforeAll(async () => {
  h = await startHarness({
    config: { mailboxes: [ME, ANNA, BORIS].map((address) => ({ address, oversight_mode: 'autonomous' })) },
  });
  await send(h.agent, {
    mailbox: ANNA,
    to: ME,
    subject: 'Invoice March',
    text: 'the harbour invoice',
    attachments: [{ filename: 'invoice.pdf', content_base64: Buffer.from('%PDF-1.4').toString('base64') }],
  });
  await send(h.agent, { mailbox: ANNA, to: ME, subject: 'Lunch plans', text: 'the harbour cafe' });
  await send(h.agent, { mailbox: BORIS, to: ME, subject: 'Quarterly report', text: 'numbers' });
  for (const e of await inbox(h.agent, ME)) ids[e.subject as string] = e.email_id as string;
  ok(await h.agent.call('tag_email', { email_id: ids['Lunch plans'], add_flags: ['\\Flagged'] }));
  ok(await h.agent.call('read_email', { email_id: ids['Quarterly report'] }));
  ok(await h.agent.call('tag_email', { email_id: ids['Quarterly report'], add_flags: ['\\Seen'] }));
});
afterAll(async () => {
  await h?.close();
});

const search = async (args: Record<string, unknown>) =>
  (ok(await h.agent.call('search_email', { mailbox: ME, ...args })).emails as { subject: string }[]).map((e) => e.subject).sort();

describe('search_email filters (sandbox)', () => {
  it('narrows by sender, recipient and subject text, case-insensitive', async () => {
    expect(await search({ from: 'ANNA@' })).toEqual(['Invoice March', 'Lunch plans']);
    expect(await search({ from: 'boris' })).toEqual(['Quarterly report']);
    expect(await search({ to: 'me@t.test' })).toHaveLength(3);
    expect(await search({ to: 'anna@' })).toEqual([]);
    expect(await search({ subject: 'report' })).toEqual(['Quarterly report']);
    // LIKE's wildcards are literal text here.
    expect(await search({ subject: '%' })).toEqual([]);
  });

  it('narrows by flags, attachments and dates', async () => {
    expect(await search({ flagged: true })).toEqual(['Lunch plans']);
    expect(await search({ flagged: false })).toEqual(['Invoice March', 'Quarterly report']);
    expect(await search({ unread: false })).toEqual(['Quarterly report']);
    expect(await search({ unread: true })).toEqual(['Invoice March', 'Lunch plans']);
    expect(await search({ has_attachment: true })).toEqual(['Invoice March']);
    expect(await search({ has_attachment: false })).toEqual(['Lunch plans', 'Quarterly report']);
    const day = 86_400_000;
    expect(await search({ since: new Date(Date.now() + day).toISOString() })).toEqual([]);
    expect(await search({ since: new Date(Date.now() - day).toISOString().slice(0, 10) })).toHaveLength(3);
    expect(await search({ before: new Date(Date.now() - day).toISOString().slice(0, 10) })).toEqual([]);
  });

  it('combines filters with the free-text query', async () => {
    expect(await search({ query: 'harbour' })).toEqual(['Invoice March', 'Lunch plans']);
    expect(await search({ query: 'harbour', flagged: true })).toEqual(['Lunch plans']);
    expect(await search({ query: 'harbour', has_attachment: true, from: 'anna' })).toEqual(['Invoice March']);
    const r = ok(await h.agent.call('search_email', { mailbox: ME, from: 'anna' }));
    expect(r).toMatchObject({ source: 'cache', indexed: null, total: null });
    expect(r).not.toHaveProperty('note');
  });

  it('refuses a search with neither query nor filter, and a bad date', async () => {
    expect(textOf(await h.agent.call('search_email', { mailbox: ME }))).toMatch(/INVALID_INPUT.*query.*filter/);
    expect(textOf(await h.agent.call('search_email', { mailbox: ME, since: 'last week' }))).toMatch(/since.*ISO date/);
  });

  it('names the folder list for a folder the sandbox mailbox does not have, in search_email and check_inbox', async () => {
    for (const call of [
      h.agent.call('search_email', { mailbox: ME, query: 'harbour', folder: 'Archief' }),
      h.agent.call('check_inbox', { mailbox: ME, folder: 'Archief' }),
    ]) {
      const r = await call;
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/INVALID_INPUT: folder: 'Archief' does not exist in me@t\.test; folders: INBOX, Sent \(list_folders/);
    }
    // A folder the mailbox has is searched, empty or not.
    expect(await search({ query: 'harbour', folder: 'Sent' })).toEqual([]);
  });
});
