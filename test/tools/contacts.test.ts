/**
 * manage_contacts (issue 11): a mailbox's address book through real SDK clients. Allowed in every mode (read_only
 * too), audited, limited to the session's mailboxes, and unable to widen auto-approval: a recipient the agent
 * adds to its address book is still held where the operator's contact list decides.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, ok, send, startHarness, textOf } from './harness.js';

const SUPPORT = 'support@acme.test';
const LOCKED = 'locked@acme.test';
let h: Harness;
beforeEach(async () => {
  h = await startHarness({
    config: {
      contact_lists: { customers: ['known@customer.test'] },
      mailboxes: [
        { address: SUPPORT, oversight_mode: 'gated_send', auto_approve_rules: [{ type: 'contact_list', list: 'customers' }] },
        { address: LOCKED, oversight_mode: 'read_only' },
      ],
    },
  });
});
afterEach(async () => {
  await h?.close();
});

const contacts = async (args: Record<string, unknown>) => ok(await h.agent.call('manage_contacts', args));

describe('manage_contacts', () => {
  it('adds, renames, looks up, lists and removes; each change audited once', async () => {
    expect(await contacts({ mailbox: SUPPORT, action: 'add', address: 'Ann.Lee@Customer.test', name: 'Ann Lee' })).toMatchObject({
      changed: true,
      contacts: [{ address: 'ann.lee@customer.test', name: 'Ann Lee' }],
    });
    expect((await contacts({ mailbox: SUPPORT, action: 'add', address: 'ann.lee@customer.test', name: 'Ann Lee' })).changed).toBe(false);
    await contacts({ mailbox: SUPPORT, action: 'add', address: 'ann.lee@customer.test', name: 'Dr Ann Lee' });
    await contacts({ mailbox: SUPPORT, action: 'add', address: 'bob@vendor.test' });
    expect((await contacts({ mailbox: SUPPORT, action: 'lookup', query: 'dr ann' })).contacts.map((c: { address: string }) => c.address)).toEqual([
      'ann.lee@customer.test',
    ]);
    expect((await contacts({ mailbox: SUPPORT, action: 'lookup', query: 'VENDOR' })).contacts).toHaveLength(1);
    // LIKE's wildcards in the query match themselves only.
    expect((await contacts({ mailbox: SUPPORT, action: 'lookup', query: '%' })).contacts).toEqual([]);
    expect((await contacts({ mailbox: SUPPORT, action: 'list' })).contacts.map((c: { name: string | null }) => c.name)).toEqual(['Dr Ann Lee', null]);
    expect((await contacts({ mailbox: SUPPORT, action: 'remove', address: 'bob@vendor.test' })).changed).toBe(true);
    expect((await contacts({ mailbox: SUPPORT, action: 'remove', address: 'bob@vendor.test' })).changed).toBe(false);
    const events = (await h.app.store.audit({ mailbox: SUPPORT, limit: 100 })).filter((e) => e.action.startsWith('contact.'));
    expect(events.map((e) => `${e.action} ${e.detail.address}`)).toEqual([
      'contact.added ann.lee@customer.test',
      'contact.added ann.lee@customer.test',
      'contact.added bob@vendor.test',
      'contact.removed bob@vendor.test',
    ]);
    expect(events[1]!.detail).toMatchObject({ name: 'Dr Ann Lee', previous_name: 'Ann Lee' });
    expect(events.every((e) => e.actor.startsWith('mcp:agent'))).toBe(true);
  });

  it('works on a read_only mailbox, where mail actions are refused', async () => {
    expect((await contacts({ mailbox: LOCKED, action: 'add', address: 'x@y.test' })).changed).toBe(true);
    expect((await contacts({ mailbox: LOCKED, action: 'list' })).contacts).toHaveLength(1);
  });

  it("cannot widen auto-approval: an address-book entry is not the operator's contact list", async () => {
    await contacts({ mailbox: SUPPORT, action: 'add', address: 'stranger@elsewhere.test', name: 'Friend' });
    expect((await send(h.agent, { mailbox: SUPPORT, to: 'stranger@elsewhere.test' })).status).toBe('pending');
    expect((await send(h.agent, { mailbox: SUPPORT, to: 'known@customer.test' })).status).toBe('sent');
  });

  it("another mailbox's book is refused like an unknown mailbox, and bad input names the field", async () => {
    const scoped = await h.connect(['agent'], 'locked-only', [LOCKED]);
    const r = await scoped.call('manage_contacts', { mailbox: SUPPORT, action: 'list' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/UNKNOWN_MAILBOX/);
    const noAddress = await h.agent.call('manage_contacts', { mailbox: SUPPORT, action: 'add' });
    expect(textOf(noAddress)).toMatch(/INVALID_INPUT: address: give the address/);
    const bad = await h.agent.call('manage_contacts', { mailbox: SUPPORT, action: 'add', address: 'not an address' });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/address/);
    expect(await h.app.store.listContacts(SUPPORT, null, 10)).toEqual([]);
  });
});
