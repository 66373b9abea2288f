/** The address book (manage_contacts) on both backends: save, rename, look up (wildcards literal), remove, audit. */
import { describe, expect, it } from 'vitest';
import { ALICE, BOB, T0, addMailbox, auditEvents, useStore } from '../fixtures.js';

const db = useStore(async (s) => {
  await addMailbox(s, ALICE);
  await addMailbox(s, BOB);
});

describe('contacts', () => {
  it('saves, renames, looks up and removes, per mailbox, with audit events in the chain', async () => {
    const s = db.s;
    expect((await s.saveContact({ mailbox: ALICE, address: 'ann@x.test', name: 'Ann_Lee 100%' }, 'agent:a', T0)).changed).toBe(true);
    expect((await s.saveContact({ mailbox: ALICE, address: 'ann@x.test', name: 'Ann_Lee 100%' }, 'agent:a', T0 + 1)).changed).toBe(false);
    const renamed = await s.saveContact({ mailbox: ALICE, address: 'ann@x.test', name: 'Ann Lee' }, 'agent:a', T0 + 2);
    expect(renamed.contact).toMatchObject({ name: 'Ann Lee', created_at: T0, updated_at: T0 + 2, created_by: 'agent:a' });
    await s.saveContact({ mailbox: ALICE, address: 'bob_x@y.test', name: null }, 'agent:a', T0 + 3);
    await s.saveContact({ mailbox: BOB, address: 'ann@x.test', name: 'Other book' }, 'agent:b', T0 + 4);
    expect((await s.listContacts(ALICE, null, 10)).map((c) => c.address)).toEqual(['ann@x.test', 'bob_x@y.test']);
    expect((await s.listContacts(ALICE, 'ann lee', 10)).map((c) => c.address)).toEqual(['ann@x.test']);
    expect((await s.listContacts(ALICE, '_x@', 10)).map((c) => c.address)).toEqual(['bob_x@y.test']); // _ is literal
    expect(await s.listContacts(ALICE, '%', 10)).toEqual([]);
    expect(await s.listContacts(ALICE, null, 1)).toHaveLength(1);
    expect(await s.removeContact(ALICE, 'ann@x.test', 'agent:a', T0 + 5)).toBe(true);
    expect(await s.removeContact(ALICE, 'ann@x.test', 'agent:a', T0 + 6)).toBe(false);
    expect((await s.listContacts(BOB, null, 10)).map((c) => c.name)).toEqual(['Other book']);
    const actions = (await auditEvents(s)).filter((e) => e.action.startsWith('contact.')).map((e) => `${e.action} ${e.mailbox}`);
    expect(actions).toEqual([`contact.added ${ALICE}`, `contact.added ${ALICE}`, `contact.added ${ALICE}`, `contact.added ${BOB}`, `contact.removed ${ALICE}`]);
    expect(await s.verifyAudit()).toMatchObject({ ok: true });
  });
});
