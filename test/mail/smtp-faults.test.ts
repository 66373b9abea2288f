/**
 * SMTP faults (4xx/5xx replies at each step and a dropped connection after the final dot, RFC 5321 §4.2 and
 * §6.1) against the real DeliveryWorker, a real
 * SqliteStore file and a real SmtpSender talking to the scriptable fake server on 127.0.0.1. The oracle is
 * the fake's record of accepted messages: never two copies of one Message-ID, and one for every `sent`.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/gate/evaluate.js';
import { newMessageId, newMessageIdHeader } from '../../src/ids.js';
import type { Transport, TransportRegistry } from '../../src/mail/ports.js';
import { SmtpSender } from '../../src/mail/smtp.js';
import { DeliveryWorker } from '../../src/services/deliver.js';
import { SqliteStore } from '../../src/domain/sqlite-store.js';
import type { MessageContent, OutboundMessage, Store } from '../../src/store/store.js';
import { type FakeSmtp, type Step, sequence, startFakeSmtp } from '../helpers/fake-smtp.js';
import { tempDir } from '../helpers/tmp.js';

const FROM = 'agent@corp.example';
const RCPT = 'ann@dest.example';
const TIMEOUT_MS = 400;
const BACKOFF_MS = 50;
const tmp = tempDir('mailgate-smtp-faults-');
afterAll(() => tmp.cleanup());

interface Rig {
  fake: FakeSmtp;
  store: SqliteStore;
  worker: DeliveryWorker;
  /** Message ids whose delivery reached markTransmitting (the moment before the final dot). */
  marks: string[];
  senders: SmtpSender[];
  workers: DeliveryWorker[];
  /**
   * The workers' clock: frozen at the start, so one tick() makes exactly one attempt (a retry is never due
   * within the same pass) and the state between attempts can be inspected; thawed to real time to let the
   * backoff run out. SMTP timeouts are real time either way.
   */
  clock: { frozen: number | null; now(): number; thaw(): void };
}
let rig: Rig | undefined;
let dbNo = 0;

afterEach(async () => {
  if (!rig) return;
  for (const w of rig.workers) await w.stop();
  for (const s of rig.senders) s.close();
  await rig.fake.stop();
  await rig.store.close();
  rig = undefined;
});

function senderFor(fake: FakeSmtp, pass = fake.password): SmtpSender {
  return new SmtpSender(
    {
      host: fake.host,
      port: fake.port,
      secure: false,
      requireStartTls: false,
      auth: { user: fake.user, pass },
      rejectUnauthorized: true,
      ca: undefined,
    },
    'Agent',
    { connectionTimeoutMs: TIMEOUT_MS, socketTimeoutMs: TIMEOUT_MS },
  );
}

function registry(sender: SmtpSender): TransportRegistry {
  const mailbox = new Proxy({}, { get: () => () => Promise.reject(new Error('no IMAP in these tests')) }) as Transport['mailbox'];
  return { canServe: () => true, forMailbox: () => ({ sender, mailbox }), close: async () => {} };
}

/** The real store with markTransmitting observed, as a second "process" would hold it. */
function observed(store: SqliteStore, marks: string[]): Store {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'markTransmitting') {
        return async (id: string, owner: string, now: number) => {
          marks.push(id);
          return target.markTransmitting(id, owner, now);
        };
      }
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as Store;
}

async function setup(opts: { pass?: string } = {}): Promise<Rig> {
  const fake = await startFakeSmtp();
  const path = tmp.file(`faults-${++dbNo}.db`);
  const store = new SqliteStore(path);
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
  const marks: string[] = [];
  const sender = senderFor(fake, opts.pass);
  const clock: Rig['clock'] = {
    frozen: Date.now(),
    now: () => clock.frozen ?? Date.now(),
    thaw: () => {
      clock.frozen = null;
    },
  };
  const worker = new DeliveryWorker(observed(store, marks), registry(sender), clock.now, { baseBackoffMs: BACKOFF_MS, pollMs: 20, leaseMs: 10_000 });
  rig = { fake, store, worker, marks, senders: [sender], workers: [worker], clock };
  return rig;
}

/** Submits an autonomous send through the real gate: it starts `queued`, due now. */
async function queue(r: Rig, c: Partial<MessageContent> = {}): Promise<OutboundMessage> {
  const content: MessageContent = { to: [RCPT], cc: [], bcc: [], subject: 'Status report', text: 'Hello from the fault tests', html: null, ...c };
  const action = { kind: 'send' as const, recipients: [...new Set([...content.to, ...content.cc, ...content.bcc])], subject: content.subject, isReply: false };
  const s = await r.store.submitMessage(
    {
      message_id: newMessageId(),
      message_id_header: newMessageIdHeader(FROM),
      mailbox: FROM,
      kind: 'send',
      content,
      actor: 'agent:test',
    },
    (mb, facts) => evaluate({ mode: mb.oversight_mode, rules: mb.auto_approve_rules }, { requireApproval: false }, action, facts),
    r.clock.now(),
  );
  expect(s.message.status).toBe('queued');
  return s.message;
}

const row = async (r: Rig, id: string) => (await r.store.getMessage(id))!;
const sleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function settle(r: Rig, id: string, want: string[]): Promise<OutboundMessage> {
  r.clock.thaw();
  r.worker.start();
  await until(`${id} to reach ${want.join('|')}`, async () => want.includes((await row(r, id)).status));
  return row(r, id);
}

function audit(r: Rig, id: string): { action: string; at: number; detail: Record<string, unknown> }[] {
  return (
    r.store.db.prepare('SELECT action, at, detail FROM audit_events WHERE message_id = ? ORDER BY seq').all(id) as {
      action: string;
      at: number;
      detail: string;
    }[]
  ).map((e) => ({ action: e.action, at: e.at, detail: JSON.parse(e.detail) as Record<string, unknown> }));
}
const actions = (r: Rig, id: string) => audit(r, id).map((e) => e.action);

/** Waits several backoff periods with the worker polling, then checks nothing more happened. */
async function assertNoRetry(r: Rig, m: OutboundMessage, attempts: number, mailFroms: number): Promise<void> {
  r.clock.thaw();
  r.worker.start();
  // Kept as a window: the claim is that no retry happens, and no event marks "none". Eight backoffs is short.
  await sleep(BACKOFF_MS * 8);
  await r.worker.tick();
  expect(await row(r, m.message_id)).toMatchObject({ status: m.status, attempts });
  expect(r.fake.mailFroms).toHaveLength(mailFroms);
}

describe('SmtpSender + DeliveryWorker against a scripted SMTP server', () => {
  it('accepted: sent, the 250 reply kept, exactly one copy with the stored Message-ID and envelope', async () => {
    const r = await setup();
    const m = await queue(r, { cc: ['carol@dest.example'], bcc: ['hidden@secret.example'] });
    await r.worker.tick();
    const done = await row(r, m.message_id);
    expect(done).toMatchObject({ status: 'sent', attempts: 1, last_error: null, lease_owner: null, smtp_response: '250 2.0.0 Ok: queued as FAKE1' });
    expect(done.transmitting_at).not.toBeNull();
    expect(r.fake.copies(m.message_id_header)).toBe(1);
    expect(r.fake.accepted[0]).toMatchObject({ from: FROM, to: [RCPT, 'carol@dest.example', 'hidden@secret.example'] });
    expect(r.fake.accepted[0]!.raw.toString('latin1')).not.toMatch(/^bcc:/im);
    expect(actions(r, m.message_id)).toEqual(['message.submitted', 'message.sent']);
    expect(r.marks).toEqual([m.message_id]);
  });

  it('S1 server down (ECONNREFUSED): queued with last_error and next_attempt_at, then delivered once when it is back', async () => {
    const r = await setup();
    await r.fake.down();
    const m = await queue(r);
    await r.worker.tick();
    const q = await row(r, m.message_id);
    expect(q).toMatchObject({ status: 'queued', attempts: 1, lease_owner: null, transmitting_at: null, sent_at: null });
    expect(q.last_error).toMatch(/ECONNREFUSED/);
    expect(q.next_attempt_at).toBe(r.clock.frozen! + BACKOFF_MS);
    await r.worker.tick(); // not due yet: nothing happens
    expect(await row(r, m.message_id)).toMatchObject({ status: 'queued', attempts: 1 });
    expect(r.marks).toEqual([]); // never reached the final dot
    await r.fake.up();
    const done = await settle(r, m.message_id, ['sent', 'failed', 'outcome_unknown']);
    expect(done).toMatchObject({ status: 'sent', last_error: null });
    expect(done.attempts).toBeGreaterThanOrEqual(2);
    expect(r.fake.copies(m.message_id_header)).toBe(1);
    await assertNoRetry(r, done, done.attempts, 1);
  });

  const transient: [string, keyof Pick<FakeSmtp['script'], 'mail' | 'rcpt' | 'end'>, number, string][] = [
    ['421 at MAIL FROM', 'mail', 421, '4.3.2 Service not available, closing transmission channel'],
    ['451 at MAIL FROM', 'mail', 451, '4.3.0 Temporary lookup failure'],
    ['450 at RCPT TO', 'rcpt', 450, '4.2.1 Mailbox busy, try again'],
    ['452 at RCPT TO', 'rcpt', 452, '4.5.3 Too many recipients'],
    ['451 after DATA', 'end', 451, '4.7.1 Rate limited, try again later'],
  ];
  it.each(transient)('S3 %s: retried after the backoff, then sent; 2 attempts, one copy', async (_name, phase, code, text) => {
    const r = await setup();
    r.fake.script[phase] = sequence({ do: 'reply', code, message: text });
    const m = await queue(r);
    await r.worker.tick();
    const q = await row(r, m.message_id);
    expect(q).toMatchObject({ status: 'queued', attempts: 1, transmitting_at: null });
    expect(q.last_error).toContain(`${code}`);
    expect(q.last_error).toContain(text);
    const done = await settle(r, m.message_id, ['sent', 'failed', 'outcome_unknown']);
    expect(done).toMatchObject({ status: 'sent', attempts: 2, last_error: null });
    expect(r.fake.copies(m.message_id_header)).toBe(1);
    expect(r.fake.accepted).toHaveLength(1);
    const retry = audit(r, m.message_id).find((e) => e.action === 'message.retry_scheduled')!;
    expect(Number(retry.detail.next_attempt_at) - retry.at).toBe(BACKOFF_MS);
    expect(actions(r, m.message_id)).toEqual(['message.submitted', 'message.retry_scheduled', 'message.sent']);
    // The final dot is reached only where the refusal came after the body.
    expect(r.marks).toEqual(phase === 'end' ? [m.message_id, m.message_id] : [m.message_id]);
  });

  const permanent: [string, keyof Pick<FakeSmtp['script'], 'mail' | 'rcpt' | 'end'>, number, string][] = [
    ['553 at MAIL FROM', 'mail', 553, '5.1.8 Sender address rejected: Domain not found'],
    ['550 5.1.1 at RCPT TO', 'rcpt', 550, '5.1.1 <ann@dest.example>: Recipient address rejected: User unknown'],
    ['554 after DATA', 'end', 554, '5.7.1 Message rejected as spam'],
  ];
  it.each(permanent)('S4 %s: failed with the server reply, never retried', async (_name, phase, code, text) => {
    const r = await setup();
    r.fake.script[phase] = () => ({ do: 'reply', code, message: text });
    const m = await queue(r);
    await r.worker.tick();
    const f = await row(r, m.message_id);
    expect(f).toMatchObject({ status: 'failed', attempts: 1, lease_owner: null, sent_at: null });
    expect(f.last_error).toContain(`${code} ${text}`);
    expect(f.smtp_response).toBe(f.last_error);
    // Before the final dot (MAIL, RCPT) nothing was marked; a refusal after the dot was marked first.
    if (phase === 'end') expect(f.transmitting_at).not.toBeNull();
    else expect(f.transmitting_at).toBeNull();
    expect(r.marks).toEqual(phase === 'end' ? [m.message_id] : []);
    await assertNoRetry(r, f, 1, 1);
    expect(r.fake.accepted).toEqual([]);
    expect(actions(r, m.message_id)).toEqual(['message.submitted', 'message.failed']);
  });

  it('S3 partial RCPT (250 for one, 550 for the other): sent to the accepted one, the refusal recorded in the audit', async () => {
    const r = await setup();
    const BAD = 'gone@dest.example';
    r.fake.script.rcpt = (_c, to) => (to === BAD ? { do: 'reply', code: 550, message: '5.1.1 User unknown' } : { do: 'accept' });
    const m = await queue(r, { to: [RCPT, BAD] });
    await r.worker.tick();
    expect(await row(r, m.message_id)).toMatchObject({ status: 'sent', attempts: 1 });
    expect(r.fake.accepted.map((a) => a.to)).toEqual([[RCPT]]);
    const sent = audit(r, m.message_id).find((e) => e.action === 'message.sent')!;
    expect(sent.detail).toMatchObject({ accepted: [RCPT], rejected: [BAD] });
  });

  it('S6 535 authentication failure: the mailbox pauses (message queued, uncharged), never retried, no secret stored', async () => {
    const r = await setup({ pass: 'Wr0ng-Secret-Value' });
    const m = await queue(r);
    await r.worker.tick();
    const f = await row(r, m.message_id);
    // A configuration problem, not the message's: it waits for the fix instead of failing for good.
    expect(f).toMatchObject({ status: 'queued', attempts: 0, transmitting_at: null });
    expect(f.last_error).toMatch(/authentication failed/i);
    expect(f.last_error).toMatch(/password/);
    expect(f.last_error).toContain('535');
    const paused = r.store.db.prepare("SELECT detail FROM audit_events WHERE action = 'mailbox.paused'").pluck().all() as string[];
    expect(paused).toHaveLength(1);
    expect(JSON.parse(paused[0]!)).toMatchObject({ hint: expect.stringMatching(/mailgate mailbox resume/) });
    await assertNoRetry(r, f, 0, 0);
    expect(r.fake.auths).toEqual([{ user: r.fake.user, ok: false }]);
    const plain = Buffer.from(`\0${r.fake.user}\0Wr0ng-Secret-Value`).toString('base64');
    const dump = JSON.stringify([
      f,
      audit(r, m.message_id),
      r.store.db.prepare('SELECT * FROM audit_events').all(),
      r.store.db.prepare('SELECT * FROM mailboxes').all(),
    ]);
    for (const secret of ['Wr0ng-Secret-Value', Buffer.from('Wr0ng-Secret-Value').toString('base64'), plain]) expect(dump).not.toContain(secret);
  });

  it('drop at the DATA command (no body byte sent): transient, retried, exactly one copy', async () => {
    const r = await setup();
    r.fake.script.data = sequence({ do: 'drop' });
    const m = await queue(r);
    await r.worker.tick();
    expect(await row(r, m.message_id)).toMatchObject({ status: 'queued', attempts: 1, transmitting_at: null });
    expect(r.marks).toEqual([]);
    const done = await settle(r, m.message_id, ['sent', 'failed', 'outcome_unknown']);
    expect(done).toMatchObject({ status: 'sent', attempts: 2 });
    expect(r.fake.copies(m.message_id_header)).toBe(1);
  });

  it('a pooled connection the server closes at the next MAIL FROM (nothing of the message sent): transient, one copy', async () => {
    const r = await setup();
    const first = await queue(r, { subject: 'first' });
    await r.worker.tick();
    expect(await row(r, first.message_id)).toMatchObject({ status: 'sent' });
    // The server drops the idle pooled connection as the second message starts on it (idle timeout, restart).
    r.fake.script.mail = (c) => (c.transaction === 2 ? { do: 'drop' } : { do: 'accept' });
    const m = await queue(r, { subject: 'second' });
    await r.worker.tick();
    const q = await row(r, m.message_id);
    expect(q.last_error ?? '').not.toMatch(/ESTREAM|already read/);
    expect(['queued', 'sent']).toContain(q.status); // nodemailer's pool may itself move it to a fresh connection
    const done = await settle(r, m.message_id, ['sent', 'failed', 'outcome_unknown']);
    expect(done.status).toBe('sent');
    expect(r.fake.copies(m.message_id_header)).toBe(1);
    expect(r.fake.copies(first.message_id_header)).toBe(1);
  });

  // A body larger than the loopback socket buffers: the server holds it unread, so the client is still
  // writing it (the final dot not yet sent) when the connection drops. That is the only mid-DATA drop a
  // client can tell apart from a drop after the dot; a small message is entirely in flight at once.
  it('FP5 drop mid-DATA (before the final dot): transient, retried, exactly one copy', async () => {
    const r = await setup();
    r.fake.script.data = sequence({ do: 'drop', afterMs: 300 });
    const m = await queue(r, { text: `${'0123456789abcdef'.repeat(64)}\n`.repeat(8 * 1024) }); // 8 MiB
    await r.worker.tick();
    const q = await row(r, m.message_id);
    expect(q).toMatchObject({ status: 'queued', attempts: 1, transmitting_at: null });
    expect(q.last_error).toMatch(/ECONNRESET|EPIPE|closed/);
    expect(r.marks).toEqual([]);
    const done = await settle(r, m.message_id, ['sent', 'failed', 'outcome_unknown']);
    expect(done).toMatchObject({ status: 'sent', attempts: 2 });
    expect(r.fake.copies(m.message_id_header)).toBe(1);
  });

  const afterDot: [string, Step, number][] = [
    ['drop after the final dot, the server kept it', { do: 'drop', record: true }, 1],
    ['drop after the final dot, the server lost it', { do: 'drop', record: false }, 0],
    ['stall after the final dot past the socket timeout', { do: 'stall', record: true }, 1],
  ];
  it.each(afterDot)('FP6 %s: outcome_unknown, transmitting_at set, never resent', async (_name, step, copies) => {
    const r = await setup();
    r.fake.script.end = () => step;
    const m = await queue(r);
    await r.worker.tick();
    const u = await row(r, m.message_id);
    expect(u).toMatchObject({ status: 'outcome_unknown', attempts: 1, lease_owner: null, sent_at: null });
    expect(u.transmitting_at).not.toBeNull();
    expect(u.last_error).toMatch(/may have been delivered/);
    expect(r.marks).toEqual([m.message_id]);
    await assertNoRetry(r, u, 1, 1);
    expect(r.fake.copies(m.message_id_header)).toBe(copies);
    expect(actions(r, m.message_id)).toEqual(['message.submitted', 'message.outcome_unknown']);
  });

  const slow: [string, (f: FakeSmtp) => void][] = [
    [
      'greeting slower than the timeout',
      (f) => {
        f.script.connect = sequence({ do: 'stall', ms: TIMEOUT_MS * 3 });
      },
    ],
    [
      'no answer to RCPT TO',
      (f) => {
        f.script.rcpt = sequence({ do: 'stall' });
      },
    ],
  ];
  it.each(slow)('S2 %s (before DATA): transient, retried, one copy, never marked transmitting on the slow try', async (_name, arrange) => {
    const r = await setup();
    arrange(r.fake);
    const m = await queue(r);
    await r.worker.tick();
    const q = await row(r, m.message_id);
    expect(q).toMatchObject({ status: 'queued', attempts: 1, transmitting_at: null });
    expect(q.last_error).toMatch(/ETIMEDOUT|timeout/i);
    expect(r.marks).toEqual([]);
    const done = await settle(r, m.message_id, ['sent', 'failed', 'outcome_unknown']);
    expect(done).toMatchObject({ status: 'sent', attempts: 2 });
    expect(r.fake.copies(m.message_id_header)).toBe(1);
  });

  it('two workers on two store connections race over 30 messages: each Message-ID accepted exactly once', async () => {
    const r = await setup();
    r.clock.thaw();
    const other = new SqliteStore(r.store.db.name);
    const sender2 = senderFor(r.fake);
    const worker2 = new DeliveryWorker(other, registry(sender2), Date.now, { baseBackoffMs: BACKOFF_MS, pollMs: 20, leaseMs: 10_000 });
    r.senders.push(sender2);
    r.workers.push(worker2);
    // Every fifth transaction is refused once with a 451 so retries interleave with first attempts.
    r.fake.script.end = (c) => (c.transaction % 5 === 0 ? { do: 'reply', code: 451, message: '4.3.0 try again' } : { do: 'accept' });
    const ms: OutboundMessage[] = [];
    for (let i = 0; i < 30; i++) ms.push(await queue(r, { subject: `race ${i}` }));
    r.worker.start();
    worker2.start();
    try {
      await until(
        'all 30 sent',
        () => ms.every((m) => r.store.db.prepare('SELECT status FROM messages WHERE message_id = ?').pluck().get(m.message_id) === 'sent'),
        15_000,
      );
    } finally {
      await other.close();
    }
    for (const m of ms) expect(r.fake.copies(m.message_id_header), m.message_id).toBe(1);
    expect(r.fake.accepted).toHaveLength(30);
    expect(new Set(r.fake.accepted.map((a) => a.connection)).size).toBeGreaterThan(1);
    expect(r.store.db.prepare("SELECT count(*) FROM audit_events WHERE action = 'message.sent'").pluck().get()).toBe(30);
    expect(await r.store.verifyAudit()).toMatchObject({ ok: true });
  });
});
