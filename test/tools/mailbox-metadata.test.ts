/**
 * Mailboxes carry operator-set labels (issue 11): from the config file, create_mailbox and update_mailbox;
 * shown by list_mailboxes; audited when changed; never a loosening and never seen by an agent's tools.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, ok, startHarness, textOf } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness({
    config: { mailboxes: [{ address: 'decisions@bank.test', oversight_mode: 'gated_send', metadata: { team: 'credit', gdpr_article22_scope: true } }] },
  });
});
afterEach(async () => {
  await h?.close();
});

const listed = async () =>
  new Map((ok(await h.operator.call('list_mailboxes', {})).mailboxes as { address: string; metadata: unknown }[]).map((m) => [m.address, m.metadata]));

describe('mailbox metadata', () => {
  it('comes from the config file, create_mailbox and update_mailbox, and is audited when it changes', async () => {
    expect((await listed()).get('decisions@bank.test')).toEqual({ team: 'credit', gdpr_article22_scope: true });
    ok(await h.operator.call('create_mailbox', { address: 'ops@bank.test', metadata: { team: 'ops', tier: 2 } }));
    expect((await listed()).get('ops@bank.test')).toEqual({ team: 'ops', tier: 2 });
    const r = ok(await h.operator.call('update_mailbox', { address: 'ops@bank.test', metadata: { team: 'platform' }, change_reason: 'reorg' }));
    expect(r).toMatchObject({ changed: ['metadata'], metadata: { team: 'platform' } });
    const [event] = (await h.app.store.audit({ mailbox: 'ops@bank.test', limit: 10 })).filter((e) => e.action === 'mailbox.updated');
    expect(event?.detail).toMatchObject({ changes: { metadata: { from: { team: 'ops', tier: 2 }, to: { team: 'platform' } } }, reason: 'reorg' });
  });

  it('a session that can draft changes labels without a person confirming: labels are no loosening', async () => {
    const both = await h.connect(['agent', 'operator'], 'agent-operator');
    const r = await both.call('update_mailbox', { address: 'decisions@bank.test', metadata: { team: 'risk' }, change_reason: 'relabel' });
    expect(textOf(r)).not.toMatch(/CONFIRMATION_REQUIRED/);
    expect((await listed()).get('decisions@bank.test')).toEqual({ team: 'risk' });
  });

  it('refuses bad labels, naming the field; agents have no tool that shows or sets them', async () => {
    const bad = await h.operator.call('create_mailbox', { address: 'x@bank.test', metadata: { 'bad key!': 1 } });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/metadata/);
    const nested = await h.operator.call('create_mailbox', { address: 'y@bank.test', metadata: { a: { b: 1 } } });
    expect(nested.isError).toBe(true);
    const agentTools = (await h.agent.client.listTools()).tools.map((t) => t.name);
    expect(agentTools).not.toContain('update_mailbox');
    expect(agentTools).not.toContain('list_mailboxes');
  });
});
