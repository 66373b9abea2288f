/**
 * Rows that reached the table around the tool schemas (an older version, a hand-edited database) must not go
 * out as they are: a header field with a control character, or an envelope nodemailer refuses (EENVELOPE),
 * fails for good on the first attempt, before MAIL FROM, and is never retried. Against the real DeliveryWorker,
 * a real SqliteStore file and a real SmtpSender talking to the scriptable smtp-server on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/gate/evaluate.js';
import { newMessageId, newMessageIdHeader } from '../../src/ids.js';
import type { Transport, TransportRegistry } from '../../src/mail/ports.js';
import { classify, SmtpSender } from '../../src/mail/smtp.js';
import { DeliveryWorker } from '../../src/services/deliver.js';
import { SqliteStore } from '../../src/domain/sqlite-store.js';
import type { MessageContent, OutboundMessage } from '../../src/store/store.js';
import { type FakeSmtp, startFakeSmtp } from '../helpers/fake-smtp.js';
import { tempDir } from '../helpers/tmp.js';

const FROM = 'agent@corp.example';
const tmp = tempDir('mailgate-smtp-envelope-');
let rig: { fake: FakeSmtp; store: SqliteStore; sender: SmtpSender; worker: DeliveryWorker } | undefined;
let dbNo = 0;

afterEach(async () => {
  if (!rig) return;
  await rig.worker.stop();
  rig.sender.close();
  await rig.fake.stop();
  await rig.store.close();
  rig = undefined;
});

async function setup() {
  const fake = await startFakeSmtp();
  const store = new SqliteStore(tmp.file(`envelope-${++dbNo}.db`));
  await store.createMailbox(
    {
      address: FROM,
      display_name: 'Agent',
      oversight_mode: 'autonomous',
      mode_source: 'test',
      auto_approve_rules: [],
      pending_ttl_seconds: 3600,
      transport: 'imap_smtp',
      policy: {},
    },
    'operator:test',
    Date.now(),
  );
  const sender = new SmtpSender(
    {
      host: fake.host,
      port: fake.port,
      secure: false,
      requireStartTls: false,
      auth: { user: fake.user, pass: fake.password },
      rejectUnauthorized: true,
      ca: undefined,
    },
    'Agent',
    { connectionTimeoutMs: 2000, socketTimeoutMs: 2000 },
  );
  const mailbox = new Proxy({}, { get: () => () => Promise.reject(new Error('no IMAP here')) }) as Transport['mailbox'];
  const registry: TransportRegistry = { canServe: () => true, forMailbox: () => ({ sender, mailbox }), close: async () => {} };
  const worker = new DeliveryWorker(store, registry, Date.now, { baseBackoffMs: 20, pollMs: 20, leaseMs: 10_000 });
  rig = { fake, store, sender, worker };
  return rig;
}

/**
 * Queues a send through the real gate and store with content the tool schemas would have refused: the store
 * takes what it is given (its hash then covers that content, so delivery's tamper check passes it on).
 */
async function queueRaw(r: NonNullable<typeof rig>, c: Partial<MessageContent>, references: string | null = null): Promise<OutboundMessage> {
  const content: MessageContent = { to: ['ann@dest.example'], cc: [], bcc: [], subject: 'Report', text: 'Hello', html: null, ...c };
  const action = { kind: 'send' as const, recipients: content.to, subject: content.subject, isReply: false };
  const s = await r.store.submitMessage(
    {
      message_id: newMessageId(),
      message_id_header: newMessageIdHeader(FROM),
      mailbox: FROM,
      kind: 'send',
      content,
      actor: 'agent:test',
      references_header: references,
    },
    (mb, facts) => evaluate({ mode: mb.oversight_mode, rules: mb.auto_approve_rules }, { requireApproval: false }, action, facts),
    Date.now(),
  );
  expect(s.message.status).toBe('queued');
  return s.message;
}

async function deliveredOnce(r: NonNullable<typeof rig>, id: string): Promise<OutboundMessage> {
  await r.worker.tick();
  const m = (await r.store.getMessage(id))!;
  // Several more polls: a permanent failure is never picked up again.
  r.worker.start();
  for (let i = 0; i < 5; i++) await r.worker.tick();
  expect((await r.store.getMessage(id))!).toMatchObject({ status: 'failed', attempts: 1 });
  return m;
}

describe('refused before anything is sent', () => {
  it.each([
    ['NUL in the subject', { subject: 'Invoice\u0000paid' }, null, /not sent: subject contains a control character \(U\+0000\)/],
    ['U+2028 in the subject', { subject: 'a\u2028Bcc: x@evil.example' }, null, /subject contains a control character \(U\+2028\)/],
    ['a control character in References', {}, '<a@b>\u0001<c@d>', /references contains a control character \(U\+0001\)/],
    ['an ESMTP parameter smuggled into a recipient', { to: ['ann@dest.example> NOTIFY=SUCCESS'] }, null, /to holds .* which is not a plain email address/],
  ] as const)('%s: failed (permanent) on the first attempt, no MAIL FROM, never retried', async (_name, c, references, why) => {
    const r = await setup();
    const m = await queueRaw(r, c as Partial<MessageContent>, references);
    const f = await deliveredOnce(r, m.message_id);
    expect(f.last_error).toMatch(why);
    expect(r.fake.mailFroms).toEqual([]);
    expect(r.fake.accepted).toEqual([]);
  });

  it('an envelope nodemailer refuses (EENVELOPE, no recipients): failed on the first attempt, never retried', async () => {
    const r = await setup();
    const m = await queueRaw(r, { to: [] });
    const f = await deliveredOnce(r, m.message_id);
    expect(f.last_error).toMatch(/invalid envelope, not sent \(No recipients defined\)/);
    expect(r.fake.accepted).toEqual([]);
  });
});

describe('classify', () => {
  it('EENVELOPE without a server reply is permanent; with a 4xx reply (a deferred recipient) it stays transient', () => {
    expect(classify(Object.assign(new Error('Invalid recipient "a@b>"'), { code: 'EENVELOPE' }), false).kind).toBe('permanent');
    expect(
      classify(
        Object.assign(new Error("Can't send mail - all recipients were rejected"), { code: 'EENVELOPE', responseCode: 450, response: '450 4.2.1 try later' }),
        false,
      ).kind,
    ).toBe('transient');
    expect(
      classify(Object.assign(new Error('Recipient command failed'), { code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 unknown' }), false).kind,
    ).toBe('permanent');
  });
});
