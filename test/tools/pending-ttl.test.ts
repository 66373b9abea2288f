/**
 * pending_ttl through create_mailbox and update_mailbox (a real SDK client, a real SQLite file): 1 hour to
 * 30 days; shorter only when the config file says `testing.allow_short_ttl`, never longer.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, ok, startHarness, textOf } from './harness.js';

let h: Harness;
let testing: Harness;

// Fresh apps per test: a mailbox one test creates is not there for another.
beforeEach(async () => {
  h = await startHarness();
  testing = await startHarness({ config: { testing: { allow_short_ttl: true }, mailboxes: [{ address: 'agent@mailgate.test' }] } });
});

afterEach(async () => {
  await h.close();
  await testing.close();
});

function refused(r: Awaited<ReturnType<Harness['operator']['call']>>, range: string, got: string): void {
  expect(r.isError, textOf(r)).toBe(true);
  expect(textOf(r)).toContain(`INVALID_INPUT: pending_ttl: must be from ${range} (got ${got})`);
}

describe('pending_ttl bounds', () => {
  it('create_mailbox refuses under 1h and over 30d, naming the field and the range, and creates nothing', async () => {
    refused(await h.operator.call('create_mailbox', { address: 'short@mailgate.test', pending_ttl: '10m' }), '1h to 30d', '10m');
    refused(await h.operator.call('create_mailbox', { address: 'short@mailgate.test', pending_ttl: 3599 }), '1h to 30d', '3599s');
    refused(await h.operator.call('create_mailbox', { address: 'long@mailgate.test', pending_ttl: '45d' }), '1h to 30d', '45d');
    expect(await h.app.store.getMailbox('short@mailgate.test')).toBeUndefined();
    expect(await h.app.store.getMailbox('long@mailgate.test')).toBeUndefined();
    expect(ok(await h.operator.call('create_mailbox', { address: 'hour@mailgate.test', pending_ttl: '1h' }))).toMatchObject({ pending_ttl: '1h' });
    expect(ok(await h.operator.call('create_mailbox', { address: 'month@mailgate.test', pending_ttl: '30d' }))).toMatchObject({ pending_ttl: '30d' });
  });

  it('update_mailbox refuses outside the range and leaves the TTL as it was', async () => {
    ok(await h.operator.call('create_mailbox', { address: 'hour@mailgate.test', pending_ttl: '1h' }));
    refused(await h.operator.call('update_mailbox', { address: 'hour@mailgate.test', pending_ttl: '59m', change_reason: 'faster' }), '1h to 30d', '59m');
    refused(await h.operator.call('update_mailbox', { address: 'hour@mailgate.test', pending_ttl: '31d', change_reason: 'slower' }), '1h to 30d', '31d');
    expect((await h.app.store.getMailbox('hour@mailgate.test'))!.pending_ttl_seconds).toBe(3600);
  });

  it('with testing.allow_short_ttl a short TTL is accepted, but never more than 30d', async () => {
    expect(ok(await testing.operator.call('create_mailbox', { address: 'brief@mailgate.test', pending_ttl: '2s' }))).toMatchObject({ pending_ttl: '2s' });
    refused(await testing.operator.call('update_mailbox', { address: 'brief@mailgate.test', pending_ttl: '31d', change_reason: 'x' }), '1s to 30d', '31d');
  });
});
