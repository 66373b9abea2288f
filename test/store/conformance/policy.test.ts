/**
 * The policy facts as the store reads them inside the submit transaction, on a real database: duplicates
 * within the window, rate-limit windows (what counts and when it frees up), the suppression list (scopes,
 * the config file's entries, hard bounces). Races between instances are in instances.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/app.js';
import { evaluate } from '../../../src/gate/evaluate.js';
import { loadConfig } from '../../../src/config/load.js';
import type { PolicySettings } from '../../../src/gate/policy/index.js';
import { hardBounces } from '../../../src/mail/smtp.js';
import type { OutboundMessage, Store } from '../../../src/store/store.js';
import type { OversightMode } from '../../../src/values.js';
import { addMailbox, auditActions, BOB, CAROL, content, OPERATOR, OUTSIDER, sandboxWorker, submit, T0, useStore } from '../fixtures.js';

const MB = 'agent@sandbox.test';
const OTHER = 'other@sandbox.test';
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

const db = useStore();
// Registered after useStore's, so it runs before the database is closed.
afterEach(async () => {
  expect(await db.s.verifyAudit()).toMatchObject({ ok: true });
});

const mailbox = (policy: PolicySettings, mode: OversightMode = 'autonomous', address = MB) => addMailbox(db.s, address, mode, { policy });
/** Submits at `at` (ms after T0) and returns the stored row. */
const at = async (ms: number, c = content(), address = MB) => (await submit(db.s, address, c, { now: T0 + ms })).message;
const code = (m: OutboundMessage) => m.gate_code;
const firstHit = (m: OutboundMessage) => m.policy_hits[0]!;
const FACTS = { knownContacts: new Set<string>(), contactLists: new Map<string, Set<string>>() };

describe('dedupe_window', () => {
  it('an identical draft within the window is blocked as duplicate naming the first; at the window edge it passes', async () => {
    await mailbox({ dedupe_window: 600 });
    const first = await at(0);
    const twin = await at(600_000 - 1);
    expect([twin.status, code(twin)]).toEqual(['blocked', 'duplicate']);
    expect(firstHit(twin).details).toEqual({ duplicate_of: first.message_id, window_seconds: 600 });
    expect(twin.gate_reason).toContain(first.message_id);
    expect(await auditActions(db.s, twin.message_id)).toEqual(['message.blocked']);
    expect(code(await at(600_000))).toBe('mode_allows'); // the first is now exactly window-old: outside
  });

  it('different content is not a duplicate: another subject, body, recipient or cc', async () => {
    await mailbox({ dedupe_window: 600 });
    await at(0);
    for (const c of [{ subject: 'Other' }, { text: 'Other body' }, { to: [BOB] }, { cc: [CAROL] }]) {
      expect(code(await at(1, content(c)))).toBe('mode_allows');
    }
  });

  // Regression (fixed): src/store/message-ops.ts messageHash (line 419) hashes to/cc/bcc as ordered arrays, and the duplicate
  // lookup (src/store/policy-facts.ts line 36) compares that hash, so the same draft with its recipients listed in
  // another order is not a duplicate: an agent looping over a recipient list it reshuffles is never stopped.
  it('the same recipients in another order are still a duplicate', async () => {
    await mailbox({ dedupe_window: 600 });
    await at(0, content({ to: [BOB, CAROL] }));
    expect(code(await at(1, content({ to: [CAROL, BOB] })))).toBe('duplicate');
  });

  it('a cancelled earlier twin does not count', async () => {
    await mailbox({ dedupe_window: 600 }, 'gated_send');
    const first = await at(0);
    await db.s.decideMessage(first.message_id, { action: 'cancel', actor: 'agent:test' }, T0 + 1);
    const again = await at(2);
    expect([again.status, code(again)]).toEqual(['pending', 'mode_requires_approval']);
  });

  it('a blocked earlier twin does not count', async () => {
    await mailbox({ dedupe_window: 600 }, 'read_only');
    expect(code(await at(0))).toBe('action_blocked');
    await db.s.updateMailbox(MB, { oversight_mode: 'autonomous' }, OPERATOR, 'open up', T0 + 1);
    expect(code(await at(2))).toBe('mode_allows');
  });

  it('window 0 lets identical drafts through; twins in another mailbox never count', async () => {
    await mailbox({ dedupe_window: 0 });
    await mailbox({ dedupe_window: 600 }, 'autonomous', OTHER);
    expect([code(await at(0)), code(await at(1))]).toEqual(['mode_allows', 'mode_allows']);
    expect(code(await at(2, content(), OTHER))).toBe('mode_allows');
  });
});

describe('rate limits per mailbox', () => {
  it.each([
    ['per_minute', MINUTE],
    ['per_hour', HOUR],
    ['per_day', DAY],
  ] as const)('%s = 2: the third in the window is refused until the oldest leaves it; retry_after = oldest + window', async (key, ms) => {
    await mailbox({ dedupe_window: 0, rate_limits: { [key]: 2 } });
    await at(0);
    await at(10);
    const third = await at(20);
    expect([third.status, code(third), firstHit(third).rule]).toEqual(['blocked', 'rate_limited', `rate_limits.${key}`]);
    expect(firstHit(third).details).toMatchObject({ limit: 2, count: 2, retry_after: new Date(T0 + ms).toISOString() });
    expect(code(await at(ms - 1))).toBe('rate_limited');
    expect(code(await at(ms))).toBe('mode_allows');
  });

  it('held and sent mail count, blocked mail does not; a rate-limited refusal does not count either', async () => {
    await mailbox({ dedupe_window: 0, rate_limits: { per_minute: 3 } }, 'gated_send');
    await db.s.addSuppression({ scope: MB, kind: 'address', value: 'nope@x.test', reason: null, source: 'manual', created_by: OPERATOR }, T0);
    const held = await at(0, content({ subject: 'held' }));
    const sent = await at(1000, content({ subject: 'to be sent' }));
    await db.s.decideMessage(sent.message_id, { action: 'approve', actor: 'reviewer:test' }, T0 + 1001);
    await sandboxWorker(db.s, () => T0 + 1002).tick();
    expect((await db.s.getMessage(sent.message_id))!.status).toBe('sent');
    expect(code(await at(2000, content({ to: ['nope@x.test'] })))).toBe('suppressed_recipient');
    expect(code(await at(3000, content({ subject: 'third' })))).toBe('mode_requires_approval');
    const refused = await at(4000, content({ subject: 'fourth' }));
    expect(code(refused)).toBe('rate_limited');
    expect(firstHit(refused).details).toMatchObject({ count: 3, retry_after: new Date(held.created_at + MINUTE).toISOString() });
    // When the held one leaves the window, 2 remain (sent + third): the refused and the blocked ones never counted.
    expect(code(await at(MINUTE, content({ subject: 'fifth' })))).toBe('mode_requires_approval');
  });

  it('tag actions (held flag changes) do not count against a send limit', async () => {
    await mailbox({ dedupe_window: 0, rate_limits: { per_minute: 1 } }, 'gated_all');
    const tag = await db.s.submitAction(
      {
        action_id: 'act_tagtagtagtagtag',
        mailbox: MB,
        actor: 'agent:test',
        action: { email_id: 'em_xxxxxxxxxxxx', add_flags: ['\\Flagged'], remove_flags: [], move_to: null },
      },
      (mb) => evaluate({ mode: mb.oversight_mode, rules: [] }, { requireApproval: false }, { kind: 'write', operation: 'tag' }, FACTS),
      T0,
    );
    expect(tag.status).toBe('pending');
    expect(code(await at(1))).toBe('mode_requires_approval');
    expect(code(await at(2, content({ subject: 'second' })))).toBe('rate_limited');
  });
});

describe('rate limits per recipient', () => {
  it('counts a recipient in to, cc or bcc; blocked mail to them does not count; others are unaffected', async () => {
    await mailbox({ dedupe_window: 0, rate_limits: { per_recipient_per_hour: 2 } });
    await db.s.addSuppression({ scope: '*', kind: 'address', value: 'nope@x.test', reason: null, source: 'manual', created_by: OPERATOR }, T0);
    expect(code(await at(0, content({ to: [BOB] })))).toBe('mode_allows');
    expect(code(await at(1, content({ to: ['nope@x.test', BOB] })))).toBe('suppressed_recipient');
    expect(code(await at(2, content({ to: [CAROL], cc: [BOB] })))).toBe('mode_allows');
    const third = await at(3, content({ to: [CAROL], bcc: [BOB] }));
    expect([code(third), firstHit(third).rule]).toEqual(['rate_limited', 'rate_limits.per_recipient_per_hour']);
    expect(third.gate_reason).toContain(BOB);
    expect(firstHit(third).details?.retry_after).toBe(new Date(T0 + HOUR).toISOString());
    expect(code(await at(4, content({ to: [CAROL] })))).toBe('mode_allows'); // Carol has 2 in the hour now, still under
    expect(code(await at(5, content({ to: [CAROL] })))).toBe('rate_limited');
    expect(code(await at(HOUR + 1, content({ to: [BOB] })))).toBe('mode_allows'); // the first to Bob left the window
  });

  it('per_recipient_per_day reaches back a day', async () => {
    await mailbox({ dedupe_window: 0, rate_limits: { per_recipient_per_day: 1 } });
    await at(0, content({ to: [BOB] }));
    expect(code(await at(DAY - 1, content({ to: [BOB] })))).toBe('rate_limited');
    expect(code(await at(DAY, content({ to: [BOB] })))).toBe('mode_allows');
  });
});

describe('the suppression list in the database', () => {
  const add = (scope: string, kind: 'address' | 'domain', value: string, reason: string | null = null) =>
    db.s.addSuppression({ scope, kind, value, reason, source: 'manual', created_by: OPERATOR }, T0);

  it("scope '*' covers every mailbox, a mailbox scope only that one; removing the entry lifts it", async () => {
    await mailbox({ dedupe_window: 0 });
    await mailbox({ dedupe_window: 0 }, 'autonomous', OTHER);
    await add('*', 'address', OUTSIDER, 'asked to stop');
    await add(MB, 'domain', 'partner.test');
    const everywhere = await at(0);
    expect(code(everywhere)).toBe('suppressed_recipient');
    expect(firstHit(everywhere).details).toEqual({ recipients: [{ recipient: OUTSIDER, kind: 'address', value: OUTSIDER, reason: 'asked to stop' }] });
    expect(code(await at(0, content(), OTHER))).toBe('suppressed_recipient');
    expect(code(await at(1, content({ to: ['x@eu.partner.test'] })))).toBe('suppressed_recipient');
    expect(code(await at(1, content({ to: ['x@eu.partner.test'] }), OTHER))).toBe('mode_allows');
    expect(await db.s.removeSuppression({ scope: '*', kind: 'address', value: OUTSIDER }, OPERATOR, T0 + 2)).toBe(true);
    expect(code(await at(3))).toBe('mode_allows');
  });

  it('adding twice is a no-op; add and remove are audited', async () => {
    expect(await add('*', 'domain', 'evil.com')).toBe(true);
    expect(await add('*', 'domain', 'evil.com')).toBe(false);
    expect(await db.s.removeSuppression({ scope: '*', kind: 'domain', value: 'evil.com' }, OPERATOR, T0)).toBe(true);
    expect(await db.s.removeSuppression({ scope: '*', kind: 'domain', value: 'evil.com' }, OPERATOR, T0)).toBe(false);
    expect(
      (await db.s.audit({ limit: 10 }))
        .map((e) => e.action)
        .filter((a) => a.startsWith('suppression.'))
        .sort(),
    ).toEqual(['suppression.added', 'suppression.removed']);
  });
});

describe('the config file keeps its own entries in sync at start', () => {
  it("source 'config' entries follow the file; manual and bounce entries stay", async () => {
    const configPath = db.t.dir.file('mailgate.json');
    const start = async (suppress: string[]) => {
      writeFileSync(configPath, JSON.stringify({ suppress, mailboxes: [{ address: MB, oversight_mode: 'autonomous' }] }));
      const app = await createApp(loadConfig({ config: configPath, db: db.t.location }, {}));
      const rows = await app.store.listSuppressions({ limit: 100 });
      await app.close();
      return rows.map((r) => `${r.source}:${r.kind}:${r.value}`).sort();
    };
    expect(await start(['Gone@Example.com', 'spam.example', 'shared@x.test'])).toEqual([
      'config:address:gone@example.com',
      'config:address:shared@x.test',
      'config:domain:spam.example',
    ]);
    await db.s.addSuppression({ scope: '*', kind: 'address', value: 'kept@x.test', reason: 'asked', source: 'manual', created_by: OPERATOR }, T0);
    await db.s.addSuppression({ scope: '*', kind: 'address', value: 'bounced@x.test', reason: 'bounce', source: 'bounce', created_by: 'system:delivery' }, T0);
    // The same entry typed by hand and in the file: the manual one is kept when the file drops it.
    await db.s.addSuppression({ scope: MB, kind: 'domain', value: 'spam.example', reason: null, source: 'manual', created_by: OPERATOR }, T0);
    expect(await start(['gone@example.com', 'bücher.example'])).toEqual([
      'bounce:address:bounced@x.test',
      'config:address:gone@example.com',
      'config:domain:xn--bcher-kva.example',
      'manual:address:kept@x.test',
      'manual:domain:spam.example',
    ]);
    expect(await start([])).toEqual(['bounce:address:bounced@x.test', 'manual:address:kept@x.test', 'manual:domain:spam.example']);
    const actors = (await db.s.audit({ limit: 100 })).filter((e) => e.action.startsWith('suppression.')).map((e) => e.actor);
    expect(actors.filter((a) => a.startsWith('config:'))).toHaveLength(3 + 3 + 2); // 3 added; 1 added + 2 removed; 2 removed
  });
});

describe('hard bounces suppress the address', () => {
  async function deliverAndFail(outcome: Parameters<Store['recordOutcome']>[2], to = ['gone@ext.example', BOB]) {
    await mailbox({ dedupe_window: 0 });
    const m = await at(0, content({ to }));
    const [claimed] = await db.s.claimForDelivery('owner:test', T0 + 1, MINUTE, 10, [MB]);
    expect(claimed?.message_id).toBe(m.message_id);
    await db.s.recordOutcome(m.message_id, 'owner:test', outcome, T0 + 2);
    return m;
  }

  it("a failed delivery with bounced recipients adds them (canonical) with source 'bounce'; later mail to them is blocked", async () => {
    const m = await deliverAndFail({ kind: 'failed', error: 'SMTP 550 5.1.1 user unknown', bounced: ['Gone@Ext.Example'] });
    const rows = await db.s.listSuppressions({ limit: 10 });
    expect(rows).toEqual([
      expect.objectContaining({ scope: '*', kind: 'address', value: 'gone@ext.example', source: 'bounce', created_by: 'system:delivery' }),
    ]);
    expect(rows[0]!.reason).toContain(m.message_id);
    expect((await db.s.getMessage(m.message_id))!.status).toBe('failed');
    expect(code(await at(10, content({ to: ['gone@ext.example'] })))).toBe('suppressed_recipient');
    expect(code(await at(11, content({ to: ['gone+again@ext.example'] })))).toBe('suppressed_recipient');
    expect(code(await at(12, content({ to: [BOB] })))).toBe('mode_allows'); // the other recipient was not bounced
  });

  it('a partial success (sent, one recipient refused at RCPT) suppresses the refused one', async () => {
    await deliverAndFail({ kind: 'sent', detail: { accepted: [BOB], bounced: ['gone@ext.example'] } });
    expect((await db.s.listSuppressions({ limit: 10 })).map((r) => r.value)).toEqual(['gone@ext.example']);
  });

  it('a failure without bounced recipients suppresses nothing', async () => {
    await deliverAndFail({ kind: 'failed', error: 'SMTP 554 5.7.1 message refused' });
    expect(await db.s.listSuppressions({ limit: 10 })).toEqual([]);
  });

  it.each([
    ['550 at RCPT', { recipient: 'A@x.test', responseCode: 550, response: '550 no such user' }, ['a@x.test']],
    ['551', { recipient: 'b@x.test', responseCode: 551, response: '551 user not local' }, ['b@x.test']],
    ['553', { recipient: 'c@x.test', responseCode: 553, response: '553 mailbox name not allowed' }, ['c@x.test']],
    ['554 with 5.1.1', { recipient: 'd@x.test', responseCode: 554, response: '554 5.1.1 bad destination mailbox' }, ['d@x.test']],
    ['552 mailbox full', { recipient: 'e@x.test', responseCode: 552, response: '552 5.2.2 mailbox full' }, []],
    ['554 5.7.1 policy', { recipient: 'f@x.test', responseCode: 554, response: '554 5.7.1 relay denied' }, []],
    ['450 temporary', { recipient: 'g@x.test', responseCode: 450, response: '450 4.1.1 try later' }, []],
  ])('hardBounces: %s', (_, rejected, expected) => {
    expect(hardBounces({ rejectedErrors: [rejected] })).toEqual(expected);
  });
});
