/**
 * Approvals only a person can give, without a link server: a session holding agent and reviewer is refused
 * (with the CLI command) when its client cannot ask the person, and asks through a form when it can.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_INPUT } from '../../src/config/schema.js';
import type { Principal } from '../../src/services/context.js';
import { approveMessage } from '../../src/services/review.js';
import { type Harness, ok, type Result, startHarness, textOf } from './harness.js';
import { openSession } from './session.js';

const COMBINED = ['agent', 'reviewer'] as const;
let h: Harness;
let n = 0;

// Form elicitation is off by default (approvals.confirm_with); these tests switch it on, as an operator would.
beforeAll(async () => {
  h = await startHarness({ config: { ...DEFAULT_CONFIG_INPUT, approvals: { confirm_with: ['url', 'form'] } } });
});
afterAll(async () => {
  await h?.close();
});

/** A held draft from the session (subjects differ so the duplicate rule never fires). */
/** Anything that can call a tool: a Session from session.ts or a harness ToolClient. */
async function draft(s: { call(name: string, args?: Record<string, unknown>): Promise<Result> }): Promise<string> {
  const r = ok(await s.call('send_email', { mailbox: 'agent@mailgate.test', to: 'you@mailgate.test', subject: `Draft ${++n}`, text: `Body of draft ${n}` }));
  expect(r.status).toBe('pending');
  return r.message_id as string;
}

async function events(id: string) {
  return h.app.store.audit({ message_id: id, limit: 100 });
}

async function status(id: string) {
  return (await h.app.store.getMessage(id))!.status;
}

describe('a session holding agent and reviewer, whose client cannot ask the person', () => {
  it('is refused with the exact CLI command, through queue_approve and decide_email alike', async () => {
    const s = await openSession(h.app, { roles: COMBINED, approveCommand: (id) => `mailgate approve ${id} --db /srv/mail.db` });
    const id = await draft(s);
    for (const [tool, args] of [
      ['queue_approve', { message_id: id }],
      ['decide_email', { message_id: id, action: 'approve' }],
    ] as const) {
      const r = await s.call(tool, args);
      expect(r.isError, tool).toBe(true);
      expect(textOf(r), tool).toMatch(/^CONFIRMATION_REQUIRED: /);
      expect(textOf(r), tool).toContain(`the person runs: mailgate approve ${id} --db /srv/mail.db`);
    }
    expect(await status(id)).toBe('pending');
    expect((await events(id)).map((e) => e.action)).toEqual(['message.held']);
    await s.close();
  });

  it('cannot approve by calling the service directly either, whatever confirmation it claims', async () => {
    const s = await openSession(h.app, { roles: COMBINED });
    const id = await draft(s);
    const model: Principal = { id: 'mcp:agent+reviewer/test-session', roles: COMBINED, mailboxes: 'all' as const };
    for (const confirmation of [undefined, 'reviewer_session', 'cli', 'elicitation_url'] as const) {
      await expect(approveMessage(h.app, model, id, { confirmation })).rejects.toMatchObject({ code: 'CONFIRMATION_REQUIRED' });
    }
    expect(await status(id)).toBe('pending');
    await s.close();
  });

  it('an agent with the operator role is a drafting session too: refused, not approved', async () => {
    const model: Principal = { id: 'mcp:agent+operator/x', roles: ['agent', 'operator'], mailboxes: 'all' as const };
    const id = await draft(h.agent);
    await expect(approveMessage(h.app, model, id)).rejects.toMatchObject({ code: 'CONFIRMATION_REQUIRED' });
    expect(await status(id)).toBe('pending');
  });
});

describe('form elicitation', () => {
  const formClient = (answer: { action: 'accept' | 'decline' | 'cancel'; content?: Record<string, boolean> }) =>
    openSession(h.app, { roles: COMBINED }, { capabilities: { elicitation: { form: {} } }, onElicit: () => answer });

  it('accept with the box ticked approves and sends; the audit records elicitation_form', async () => {
    const s = await formClient({ action: 'accept', content: { approve: true } });
    const id = await draft(s);
    const r = ok(await s.call('queue_approve', { message_id: id, note: 'confirmed in the form' }));
    expect(r.status).toBe('sent');
    const asked = s.elicitations[0]!;
    expect(asked.mode).toBe('form');
    expect(asked.message).toContain('To: you@mailgate.test');
    expect(asked.message).toContain(`Subject: Draft ${n}`);
    expect(asked.message).toContain(`Body of draft ${n}`);
    const ev = await events(id);
    const requested = ev.find((e) => e.action === 'message.confirmation_requested')!;
    const approved = ev.find((e) => e.action === 'message.approved')!;
    expect(requested.detail).toMatchObject({ path: 'elicitation_form' });
    expect(approved.detail).toMatchObject({ confirmation: 'elicitation_form', reason: 'confirmed in the form' });
    expect(approved.actor).toBe('mcp:agent+reviewer/test-session');
    expect(requested.seq).toBeLessThan(approved.seq);
    await s.close();
  });

  it('decline, cancel, or accept without the box ticked approve nothing', async () => {
    for (const answer of [{ action: 'decline' as const }, { action: 'cancel' as const }, { action: 'accept' as const, content: { approve: false } }]) {
      const s = await formClient(answer);
      const id = await draft(s);
      const r = await s.call('queue_approve', { message_id: id });
      expect(r.isError, answer.action).toBe(true);
      expect(textOf(r), answer.action).toMatch(/^NOT_CONFIRMED: .*stays pending/);
      expect(await status(id)).toBe('pending');
      expect((await events(id)).map((e) => e.action)).toEqual(['message.held', 'message.confirmation_requested']);
      await s.close();
    }
  });

  it('edits cannot be confirmed in a drafting session: refused before the person is asked', async () => {
    const s = await formClient({ action: 'accept', content: { approve: true } });
    const id = await draft(s);
    const r = await s.call('queue_approve', { message_id: id, edits: { subject: 'Changed by the model' } });
    expect(textOf(r)).toMatch(/^INVALID_INPUT: edits: /);
    expect(s.elicitations).toHaveLength(0);
    expect(await status(id)).toBe('pending');
    await s.close();
  });

  it('a client that offers URL mode, on a server with no link server, is asked with a form', async () => {
    const s = await openSession(
      h.app,
      { roles: COMBINED },
      { capabilities: { elicitation: { form: {}, url: {} } }, onElicit: () => ({ action: 'accept', content: { approve: true } }) },
    );
    const id = await draft(s);
    expect(ok(await s.call('queue_approve', { message_id: id })).status).toBe('sent');
    expect(s.elicitations.map((e) => e.mode)).toEqual(['form']);
    await s.close();
  });
});

describe('sessions that cannot draft', () => {
  it('a reviewer-only session approves directly, never asks, and is recorded as reviewer_session', async () => {
    const id = await draft(h.agent);
    expect(ok(await h.reviewer.call('queue_approve', { message_id: id })).status).toBe('sent');
    expect((await events(id)).find((e) => e.action === 'message.approved')!.detail).toMatchObject({ confirmation: 'reviewer_session' });
  });

  it('the CLI is recorded as cli', async () => {
    const id = await draft(h.agent);
    await approveMessage(h.app, { id: 'cli:alice', roles: ['reviewer', 'operator'], mailboxes: 'all' as const }, id);
    expect((await events(id)).find((e) => e.action === 'message.approved')!.detail).toMatchObject({ confirmation: 'cli' });
  });
});
