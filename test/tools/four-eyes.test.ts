/**
 * The four-eyes rule (policy four_eyes): whoever drafted a message may not approve it, in any session and at
 * the terminal; another person may. Principals are real tokens, so "whoever" is the token's name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveMessage } from '../../src/services/review.js';
import { createToken } from '../../src/services/tokens.js';
import type { TokenRecord } from '../../src/store/store.js';
import type { Role } from '../../src/values.js';
import { type Harness, ok, startHarness, textOf } from './harness.js';
import { openSession, type Session } from './session.js';

const OPERATOR = { id: 'cli:admin', roles: ['reviewer', 'operator'] as Role[], mailboxes: 'all' as const };
let h: Harness;
const open: Session[] = [];
let n = 0;

beforeAll(async () => {
  // Forms count as the person here, so the refusals below are the four-eyes rule's, not the channel's.
  h = await startHarness({
    config: {
      approvals: { confirm_with: ['url', 'form'] },
      mailboxes: [
        { address: 'four@t.test', oversight_mode: 'gated_send', policy: { four_eyes: true } },
        { address: 'two@t.test', oversight_mode: 'gated_send' },
        { address: 'r@t.test', oversight_mode: 'autonomous' },
      ],
    },
  });
});
afterAll(async () => {
  for (const s of open) await s.close();
  await h?.close();
});

interface TokenSession extends Session {
  token: TokenRecord;
}

/** A session bound to a new token: what `MAILGATE_TOKEN=... mailgate serve` gives a client. */
async function asToken(name: string, roles: Role[], client?: Parameters<typeof openSession>[2]): Promise<TokenSession> {
  const { record } = await createToken(h.app, OPERATOR, { name: `${name}-${++n}`, roles, mailboxes: 'all' });
  return { ...(await session(record, roles, client)), token: record };
}

/** A session of an existing token, with the given roles (the person's second client, or fewer roles). */
async function session(token: TokenRecord, roles: Role[], client?: Parameters<typeof openSession>[2]): Promise<Session> {
  const s = await openSession(h.app, { roles, token: { id: token.token_id, name: token.name } }, client);
  open.push(s);
  return s;
}

async function draft(s: Session, mailbox: string): Promise<string> {
  const r = ok(await s.call('send_email', { mailbox, to: 'r@t.test', subject: `Four eyes ${++n}`, text: `Body ${n}` }));
  expect(r.status).toBe('pending');
  return r.message_id as string;
}

const status = async (id: string) => (await h.app.store.getMessage(id))!.status;

describe('four_eyes on a mailbox', () => {
  it('refuses approval by the token that drafted it (from another client too) and says who must approve; another token approves', async () => {
    const alice = await asToken('alice', ['agent', 'reviewer']);
    const aliceReviewing = await session(alice.token, ['reviewer'], { name: 'second-client' });
    const id = await draft(alice, 'four@t.test');
    const r = await aliceReviewing.call('queue_approve', { message_id: id });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(
      new RegExp(
        `^FORBIDDEN: message_id: four-eyes rule on four@t\\.test: ${id} was drafted by token:${alice.token.name}/test-session, so ${alice.token.name} may not`,
      ),
    );
    expect(textOf(r)).toContain('a different person must');
    expect(await status(id)).toBe('pending');

    const bob = await asToken('bob', ['reviewer']);
    expect(ok(await bob.call('queue_approve', { message_id: id })).status).toBe('sent');
    const approved = (await h.app.store.audit({ message_id: id, limit: 50 })).find((e) => e.action === 'message.approved')!;
    expect(approved.actor).toMatch(/^token:bob-\d+\/test-session$/);
  });

  it('a session that drafts and reviews is refused before the person is asked', async () => {
    const carol = await asToken('carol', ['agent', 'reviewer'], {
      capabilities: { elicitation: { form: {} } },
      onElicit: () => ({ action: 'accept', content: { approve: true } }),
    });
    const id = await draft(carol, 'four@t.test');
    expect(textOf(await carol.call('queue_approve', { message_id: id }))).toMatch(/^FORBIDDEN: message_id: four-eyes rule/);
    expect(carol.elicitations).toHaveLength(0);
    expect(await status(id)).toBe('pending');
  });

  it("at the terminal: --as with the drafting token's name is refused, another name approves", async () => {
    const dave = await asToken('dave', ['agent']);
    const id = await draft(dave, 'four@t.test');
    await expect(approveMessage(h.app, { id: `cli:${dave.token.name}`, roles: ['reviewer', 'operator'], mailboxes: 'all' }, id)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(await status(id)).toBe('pending');
    expect((await approveMessage(h.app, { id: 'cli:erin', roles: ['reviewer', 'operator'], mailboxes: 'all' as const }, id)).status).toBe('sent');
  });
});

describe('without four_eyes', () => {
  it('the drafting token may approve its own mail on a mailbox without the rule', async () => {
    const frank = await asToken('frank', ['agent']);
    const frankReviewing = await session(frank.token, ['reviewer']);
    const id = await draft(frank, 'two@t.test');
    expect(ok(await frankReviewing.call('queue_approve', { message_id: id })).status).toBe('sent');
  });

  it('a global four_eyes applies to every mailbox', async () => {
    const g = await startHarness({
      config: {
        policy: { four_eyes: true },
        mailboxes: [
          { address: 'g@t.test', oversight_mode: 'gated_send' },
          { address: 'r@t.test', oversight_mode: 'autonomous' },
        ],
      },
    });
    try {
      const id = ok(await g.agent.call('send_email', { mailbox: 'g@t.test', to: 'r@t.test', subject: 'Global', text: 'Body' })).message_id as string;
      // Untokened sessions are told apart by their label only: the same label cannot approve, another can.
      const self = await openSession(g.app, { roles: ['reviewer'] }, { name: 'test-agent' });
      const label = (await g.app.store.getMessage(id))!.created_by;
      expect(label).toBe('mcp:agent/test-agent');
      await expect(approveMessage(g.app, { id: label, roles: ['reviewer'], mailboxes: 'all' as const }, id)).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect(ok(await self.call('queue_approve', { message_id: id })).status).toBe('sent');
      await self.close();
    } finally {
      await g.close();
    }
  });
});
