/** Sandbox delivery through the real transport: local INBOX copies, a Sent copy, capture of the rest, exactly once. */
import { describe, expect, it } from 'vitest';
import type { SendHooks } from '../../../src/mail/ports.js';
import { sandboxTransport } from '../../../src/services/sandbox.js';
import type { OutboundMessage } from '../../../src/store/store.js';
import { ALICE, BOB, CAROL, OPERATOR, OUTSIDER, T0, addMailbox, allEmails, content, submit, useStore } from '../fixtures.js';

const DAVE = 'dave@sandbox.test';
const HIDDEN = 'hidden@external.example';
const REMOTE = 'remote@imap.example';

const db = useStore(async (s) => {
  await addMailbox(s, ALICE, 'autonomous');
  for (const mb of [BOB, CAROL, DAVE]) await addMailbox(s, mb, 'gated_send', { rules: [{ type: 'known_contact' }] });
  await s.createMailbox(
    {
      address: REMOTE,
      display_name: null,
      oversight_mode: 'gated_send',
      mode_source: 'test',
      auto_approve_rules: [],
      pending_ttl_seconds: 60,
      transport: 'imap_smtp',
      policy: {},
    },
    OPERATOR,
    T0,
  );
});

const clock = () => T0 + 100;
/** The worker marks the message transmitting in beforeFinalDot; these tests call the transport directly. */
const NO_HOOKS: SendHooks = { beforeFinalDot: async () => {} };
const copies = async () =>
  (await allEmails(db.s))
    .map(({ mailbox, folder }) => ({ mailbox, folder }))
    .sort((x, y) => `${x.mailbox} ${x.folder}`.localeCompare(`${y.mailbox} ${y.folder}`));
const emailIds = async () =>
  (await allEmails(db.s)).map(({ email_id, mailbox, folder }) => ({ email_id, mailbox, folder })).sort((x, y) => x.email_id.localeCompare(y.email_id));
/** Every address these tests use: the correspondents a mailbox knows are looked up among them. */
const EVERYONE = [ALICE, BOB, CAROL, DAVE, OUTSIDER, HIDDEN, REMOTE];
const known = async (mailbox: string) => [...(await db.s.knownCorrespondents(mailbox, EVERYONE))];

async function queuedMessage(
  c = content({ to: [BOB, OUTSIDER], cc: [CAROL], bcc: [DAVE, HIDDEN, REMOTE], subject: 'Hello sandbox' }),
): Promise<OutboundMessage> {
  const { message } = await submit(db.s, ALICE, c);
  expect(message.status).toBe('queued');
  return (await db.s.getMessage(message.message_id))!;
}

describe('one send', () => {
  it('delivers an INBOX copy to each local recipient, a Sent copy to the sender, and captures the rest', async () => {
    const m = await queuedMessage();
    const receipt = await sandboxTransport(db.s, clock).sender.send(m, NO_HOOKS);
    expect(receipt.accepted.sort()).toEqual([BOB, OUTSIDER, CAROL, DAVE, HIDDEN, REMOTE].sort());
    expect(receipt.captured.sort()).toEqual([HIDDEN, OUTSIDER, REMOTE].sort());
    expect(receipt.detail).toMatchObject({ transport: 'sandbox', delivered_locally: expect.arrayContaining([BOB, CAROL, DAVE]) });
    expect(await copies()).toEqual([
      { mailbox: ALICE, folder: 'Sent' },
      { mailbox: BOB, folder: 'INBOX' },
      { mailbox: CAROL, folder: 'INBOX' },
      { mailbox: DAVE, folder: 'INBOX' },
    ]);
    const captured = await db.s.listCaptured(100);
    expect(captured.map((c) => c.recipient).sort()).toEqual([HIDDEN, OUTSIDER, REMOTE].sort());
    expect(captured.every((c) => c.message_id === m.message_id && c.mailbox === ALICE && c.subject === 'Hello sandbox' && c.captured_at === T0 + 100)).toBe(
      true,
    );
  });

  it('each copy carries the message as sent, the same Message-ID, and never the Bcc list', async () => {
    const m = await queuedMessage();
    await sandboxTransport(db.s, clock).sender.send(m, NO_HOOKS);
    const [bob] = await db.s.listEmails({ mailbox: BOB, folder: 'INBOX', unread_only: false, limit: 10 });
    expect(bob).toMatchObject({
      source: 'sandbox',
      from_addr: ALICE,
      to: [BOB, OUTSIDER],
      cc: [CAROL],
      subject: 'Hello sandbox',
      text: m.text,
      message_id_header: m.message_id_header,
      outbound_message_id: m.message_id,
      unread: true,
      flags: [],
      date: T0 + 100,
    });
    const [sent] = await db.s.listEmails({ mailbox: ALICE, folder: 'Sent', unread_only: false, limit: 10 });
    expect(sent).toMatchObject({ from_addr: ALICE, unread: false, flags: ['\\Seen'], message_id_header: m.message_id_header });
    const raw = JSON.stringify(await allEmails(db.s));
    expect(raw).not.toContain(HIDDEN);
    expect(raw).not.toContain(REMOTE);
  });

  it('a message to oneself lands in the INBOX and in Sent', async () => {
    const m = await queuedMessage(content({ to: [ALICE], subject: 'note to self' }));
    const receipt = await sandboxTransport(db.s, clock).sender.send(m, NO_HOOKS);
    expect(receipt.captured).toEqual([]);
    expect(await copies()).toEqual([
      { mailbox: ALICE, folder: 'INBOX' },
      { mailbox: ALICE, folder: 'Sent' },
    ]);
    expect(await db.s.listCaptured(10)).toEqual([]);
  });
});

describe('the final-dot hook', () => {
  it('is awaited once, before anything is delivered or captured', async () => {
    const m = await queuedMessage();
    const seen: number[] = [];
    const hooks: SendHooks = {
      beforeFinalDot: async () => {
        await Promise.resolve();
        seen.push((await copies()).length + (await db.s.listCaptured(100)).length);
      },
    };
    await sandboxTransport(db.s, clock).sender.send(m, hooks);
    expect(seen).toEqual([0]);
    expect((await copies()).length).toBe(4);
  });

  it('when it throws (the lease was lost), nothing is delivered or captured and the error reaches the caller', async () => {
    const m = await queuedMessage();
    const lost: SendHooks = {
      beforeFinalDot: async () => {
        throw new Error(`lease on ${m.message_id} lost before transmission; not sending`);
      },
    };
    await expect(sandboxTransport(db.s, clock).sender.send(m, lost)).rejects.toThrow(/lost before transmission/);
    expect(await copies()).toEqual([]);
    expect(await db.s.listCaptured(100)).toEqual([]);
    for (const mb of [ALICE, BOB, CAROL, DAVE, REMOTE]) expect(await known(mb)).toEqual([]);
  });
});

describe('exactly-once local delivery', () => {
  it('sending the same message twice, from one or two instances, delivers and captures once', async () => {
    const m = await queuedMessage();
    await sandboxTransport(db.s, clock).sender.send(m, NO_HOOKS);
    const first = await emailIds();
    await sandboxTransport(db.s, () => T0 + 200).sender.send(m, NO_HOOKS);
    await sandboxTransport(db.t.open(), () => T0 + 300).sender.send(m, NO_HOOKS);
    expect(await emailIds()).toEqual(first);
    expect((await db.s.listCaptured(100)).length).toBe(3);
  });

  it('a redelivery after the recipient archived its copy does not deliver a second one', async () => {
    // A worker delivers, dies before recording `sent`; its lease is recovered and the sandbox (idempotent) is retried.
    // Meanwhile the recipient moved the first copy out of its INBOX.
    const m = await queuedMessage(content({ to: [BOB], subject: 'once' }));
    const transport = sandboxTransport(db.s, clock);
    await transport.sender.send(m, NO_HOOKS);
    const [copy] = await db.s.listEmails({ mailbox: BOB, folder: 'INBOX', unread_only: false, limit: 10 });
    await db.s.applyTag({ email_id: copy!.email_id, add_flags: ['\\Seen'], remove_flags: [], move_to: 'Archive' });
    await transport.sender.send(m, NO_HOOKS);
    const copiesIn = async (mailbox: string) => (await allEmails(db.s)).filter((e) => e.mailbox === mailbox && e.outbound_message_id === m.message_id);
    expect((await copiesIn(BOB)).map((e) => e.folder)).toEqual(['Archive']);
    expect((await copiesIn(ALICE)).map((e) => e.folder)).toEqual(['Sent']);
  });
});

describe('correspondents', () => {
  it('delivery teaches recipients nothing: inbound mail never makes its sender a known contact', async () => {
    const before = await submit(db.s, BOB, content({ to: [ALICE], subject: 'before' }));
    expect(before.message.status).toBe('pending');
    await sandboxTransport(db.s, clock).sender.send(await queuedMessage(), NO_HOOKS);
    for (const mb of [BOB, CAROL, DAVE, REMOTE]) expect(await known(mb)).toEqual([]);
    const after = await submit(db.s, BOB, content({ to: [ALICE], subject: 'after' }));
    expect(after.message).toMatchObject({ status: 'pending', gate_code: 'mode_requires_approval' });
    for (const mb of EVERYONE) expect(await db.s.knownCorrespondents(mb, [HIDDEN, OUTSIDER])).toEqual(new Set());
  });

  it('the sender knows its recipients once the delivery is recorded as sent', async () => {
    await db.s.updateMailbox(ALICE, { oversight_mode: 'gated_send', auto_approve_rules: [{ type: 'known_contact' }] }, OPERATOR, 'tighten', T0);
    const held = await submit(db.s, ALICE, content({ to: [BOB], subject: 'first' }));
    expect(held.message.status).toBe('pending');
    await db.s.decideMessage(held.message.message_id, { action: 'approve', actor: 'reviewer:r' }, T0 + 1);
    const [claimed] = await db.s.claimForDelivery('w', T0 + 2, 60_000, 10, [ALICE, BOB, CAROL, DAVE]);
    const receipt = await sandboxTransport(db.s, clock).sender.send(claimed!, {
      beforeFinalDot: () => db.s.markTransmitting(claimed!.message_id, 'w', T0 + 2),
    });
    await db.s.recordOutcome(claimed!.message_id, 'w', { kind: 'sent', detail: { accepted: receipt.accepted } }, T0 + 3);
    const second = await submit(db.s, ALICE, content({ to: [BOB], subject: 'second' }), { now: T0 + 4 });
    expect(second.message).toMatchObject({ status: 'queued', gate_rule: 'known_contact' });
    // known_contact needs every recipient known: adding a stranger holds it again.
    const third = await submit(db.s, ALICE, content({ to: [BOB, OUTSIDER], subject: 'third' }), { now: T0 + 5 });
    expect(third.message.status).toBe('pending');
  });
});
