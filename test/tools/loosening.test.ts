/**
 * No session that drafts can loosen: a session holding agent and operator asks to make a mailbox looser through
 * update_mailbox or create_mailbox over a real SDK client. Without a person it is refused with the exact CLI
 * command; with a one-time link the test plays the person (GET the page, POST its CSRF token); a client that
 * answers forms by itself counts only when the config says so. Tightening, and operator-only sessions, need no one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Config, DEFAULT_CONFIG_INPUT } from '../../src/config/schema.js';
import { ApprovalLinkServer } from '../../src/http/approval-link.js';
import type { Principal } from '../../src/services/context.js';
import { unsuppress } from '../../src/services/policy.js';
import { addWebhook, removeWebhook } from '../../src/services/webhooks.js';
import { openApprovalPage } from '../e2e/harness.js';
import { type Harness, ok, startHarness, textOf } from './harness.js';
import { openSession, type Session } from './session.js';

const COMBINED = ['agent', 'operator'] as const;
const FLAGS = ['--db', '/srv/mail.db'];
const AWS_KEY = `AKIA${'IOSFODNN7EXAMPLE'}`;
let h: Harness;
let links: ApprovalLinkServer;
let n = 0;

beforeAll(async () => {
  h = await startHarness();
  links = new ApprovalLinkServer(h.app);
});
afterAll(async () => {
  await links?.close();
  await h?.close();
});

/** A fresh gated_send mailbox, made by the operator-only session, so each test starts from a known state. */
async function mailbox(mode = 'gated_send'): Promise<string> {
  const address = `box${++n}@mailgate.test`;
  ok(await h.operator.call('create_mailbox', { address, oversight_mode: mode }));
  return address;
}

const modeOf = async (address: string) => (await h.app.store.getMailbox(address))!.oversight_mode;
const trail = async (address: string) => (await h.app.store.audit({ mailbox: address, limit: 100 })).filter((e) => e.action !== 'mailbox.created');
const post = (url: string, body: Record<string, string>) => fetch(url, { method: 'POST', body: new URLSearchParams(body), redirect: 'manual' });

/** A combined session whose client offers URL mode (and forms); each URL it is asked to open arrives in `urls`. */
async function urlSession(): Promise<{ s: Session; next(): Promise<string> }> {
  const waiting: ((u: string) => void)[] = [];
  const ready: string[] = [];
  const s = await openSession(
    h.app,
    { roles: COMBINED, links, cliFlags: FLAGS },
    {
      capabilities: { elicitation: { form: {}, url: {} } },
      onElicit: (p) => {
        if (p.mode === 'url') (waiting.shift() ?? ((u: string) => void ready.push(u)))(p.url);
        return { action: 'accept', content: { confirm: true } };
      },
    },
  );
  return { s, next: () => (ready.length ? Promise.resolve(ready.shift()!) : new Promise((r) => waiting.push(r))) };
}

describe('a session holding agent and operator, whose client cannot ask the person', () => {
  it('is refused every loosening with the exact CLI command, and nothing changes', async () => {
    const s = await openSession(h.app, { roles: COMBINED, cliFlags: FLAGS });
    const box = await mailbox();
    const asks: [Record<string, unknown>, string][] = [
      [{ oversight_mode: 'autonomous' }, `mailgate mailbox update ${box} --mode autonomous --reason 'ship it' --db /srv/mail.db`],
      [{ approval_mode: 'none' }, '--approval-mode none'],
      [{ autonomy_level: 3 }, '--autonomy-level 3'],
      [{ auto_approve_rules: [{ type: 'all' }] }, `--rules '[{"type":"all"}]'`],
      [{ policy: { content_holds: { secrets: false } } }, `--policy '{"content_holds":{"secrets":false}}'`],
    ];
    for (const [ask, command] of asks) {
      const r = await s.call('update_mailbox', { address: box, change_reason: 'ship it', ...ask });
      expect(r.isError, JSON.stringify(ask)).toBe(true);
      expect(textOf(r)).toMatch(/^CONFIRMATION_REQUIRED: /);
      expect(textOf(r)).toContain(command);
    }
    expect(await modeOf(box)).toBe('gated_send');
    expect(await trail(box)).toEqual([]);
    // Its next send, with a credential in it, is still held.
    const sent = ok(await s.call('send_email', { mailbox: box, to: 'you@mailgate.test', subject: 'Keys', text: `here: ${AWS_KEY}` }));
    expect(sent.status).toBe('pending');
    await s.close();
  });

  it('cannot create a mailbox looser than gated_send either; a gated one it may', async () => {
    const s = await openSession(h.app, { roles: COMBINED, cliFlags: FLAGS });
    const r = await s.call('create_mailbox', { address: 'loose@mailgate.test', oversight_mode: 'monitored' });
    expect(textOf(r)).toMatch(/^CONFIRMATION_REQUIRED: .*mailgate mailbox create loose@mailgate\.test --mode monitored --db \/srv\/mail\.db/);
    expect(await h.app.store.getMailbox('loose@mailgate.test')).toBeUndefined();
    expect(ok(await s.call('create_mailbox', { address: 'strict@mailgate.test', oversight_mode: 'gated_all' })).oversight_mode).toBe('gated_all');
    await s.close();
  });

  it('tightens without asking anyone: stricter mode, fewer rules, stricter policy', async () => {
    const s = await openSession(h.app, { roles: COMBINED });
    const box = await mailbox();
    ok(await h.operator.call('update_mailbox', { address: box, auto_approve_rules: [{ type: 'reply' }, { type: 'known_contact' }], change_reason: 'setup' }));
    for (const ask of [
      { oversight_mode: 'gated_all' },
      { auto_approve_rules: [{ type: 'reply' }] },
      { policy: { four_eyes: true } },
      { oversight_mode: 'read_only' },
    ]) {
      const r = await s.call('update_mailbox', { address: box, change_reason: 'incident', ...ask });
      expect(r.isError, `${JSON.stringify(ask)}: ${textOf(r)}`).toBeFalsy();
    }
    const mb = (await h.app.store.getMailbox(box))!;
    expect(mb).toMatchObject({ oversight_mode: 'read_only', auto_approve_rules: [{ type: 'reply' }], policy: { four_eyes: true } });
    const changes = (await trail(box)).filter((e) => e.actor.startsWith('mcp:agent+operator'));
    expect(changes).toHaveLength(4);
    for (const e of changes) expect(e.detail.confirmation).toBeUndefined();
    await s.close();
  });
});

describe('sessions that cannot draft', () => {
  it('an operator-only session loosens directly, recorded as operator_session with what loosened', async () => {
    const box = await mailbox();
    expect(ok(await h.operator.call('update_mailbox', { address: box, oversight_mode: 'autonomous', change_reason: 'trusted now' })).oversight_mode).toBe(
      'autonomous',
    );
    const [changed] = await trail(box);
    expect(changed).toMatchObject({ action: 'mailbox.mode_changed', detail: { confirmation: 'operator_session', loosens: ['mode gated_send -> autonomous'] } });
  });

  it('the CLI is recorded as cli', async () => {
    const { updateMailbox } = await import('../../src/services/mailboxes.js');
    const box = await mailbox();
    await updateMailbox(
      h.app,
      { id: 'cli:alice', roles: ['reviewer', 'operator'], mailboxes: 'all' },
      { address: box, oversight_mode: 'monitored', change_reason: 'ok' },
    );
    expect((await trail(box))[0]!.detail).toMatchObject({ confirmation: 'cli' });
  });
});

describe('confirmation through a one-time link (the test is the person)', () => {
  it('GET shows the exact change and changes nothing; POST applies it once; the link cannot be reused', async () => {
    const { s, next } = await urlSession();
    const box = await mailbox();
    const call = s.call('update_mailbox', { address: box, oversight_mode: 'autonomous', change_reason: 'trust <it>' });
    const link = await next();
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/approve\/[A-Za-z0-9]{40}$/);
    const { html, csrf } = await openApprovalPage(link);
    expect(html).toContain(`mode gated_send -&gt; autonomous on ${box}`);
    expect(html).toContain('trust &lt;it&gt;');
    expect(html).toContain('>Confirm</button>');
    await fetch(link);
    expect(await modeOf(box)).toBe('gated_send');
    expect((await post(link, { csrf: '0'.repeat(64) })).status).toBe(403);
    expect(await modeOf(box)).toBe('gated_send');

    const applied = await post(link, { csrf });
    expect(applied.status).toBe(200);
    expect(ok(await call).oversight_mode).toBe('autonomous');
    const again = await post(link, { csrf });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('already used');

    const [requested, changed, ...rest] = await trail(box);
    expect(rest).toEqual([]);
    expect(requested).toMatchObject({
      action: 'mailbox.confirmation_requested',
      detail: { path: 'elicitation_url', loosens: ['mode gated_send -> autonomous'] },
    });
    expect(changed).toMatchObject({
      action: 'mailbox.mode_changed',
      actor: 'mcp:agent+operator/test-session',
      detail: { confirmation: 'elicitation_url', reason: 'trust <it>' },
    });
    await expect.poll(() => s.completed).toContain(requested!.detail.link_id);
    await s.close();
  });

  it('a link made before the mailbox changed is refused, and the change it was made for never applies', async () => {
    const { s, next } = await urlSession();
    const box = await mailbox();
    const call = s.call('update_mailbox', { address: box, oversight_mode: 'monitored', change_reason: 'later' });
    const link = await next();
    const { csrf } = await openApprovalPage(link);
    ok(await h.operator.call('update_mailbox', { address: box, oversight_mode: 'read_only', change_reason: 'incident' }));
    const page = await fetch(link);
    expect(page.status).toBe(410);
    expect(await page.text()).toContain('changed after this link was made');
    expect((await post(link, { csrf })).status).toBe(409);
    expect(textOf(await call)).toMatch(/^LINK_INVALID: /);
    expect(await modeOf(box)).toBe('read_only');
    await s.close();
  });

  it('a link for one change cannot apply another: each is bound to its own change, token and state', async () => {
    const { s, next } = await urlSession();
    const box = await mailbox();
    const first = s.call('update_mailbox', { address: box, oversight_mode: 'monitored', change_reason: 'one' });
    const a = await next();
    const second = s.call('update_mailbox', { address: box, auto_approve_rules: [{ type: 'all' }], change_reason: 'two' });
    const b = await next();
    const pa = await openApprovalPage(a);
    const pb = await openApprovalPage(b);
    expect(pa.html).toContain('mode gated_send -&gt; monitored');
    expect(pb.html).toContain('adds auto-approve rule');
    expect((await post(b, { csrf: pa.csrf })).status).toBe(403); // a's token on b's link
    expect((await post(a, { csrf: pa.csrf })).status).toBe(200);
    expect(ok(await first).oversight_mode).toBe('monitored');
    // b was asked against the mailbox before a applied: stale now, so the rule is never added.
    expect((await post(b, { csrf: pb.csrf })).status).toBe(409);
    expect(textOf(await second)).toMatch(/^LINK_INVALID: /);
    expect((await h.app.store.getMailbox(box))!.auto_approve_rules).toEqual([]);
    await s.close();
  });
});

describe('a client that answers forms by itself', () => {
  const autoAccept = {
    capabilities: { elicitation: { form: {} } },
    onElicit: () => ({ action: 'accept' as const, content: { approve: true, confirm: true } }),
  };

  it('by default can neither approve its own held mail nor loosen, and is told why and what to run', async () => {
    const s = await openSession(
      h.app,
      { roles: ['agent', 'reviewer', 'operator'], cliFlags: FLAGS, approveCommand: (id) => `mailgate approve ${id} --db /srv/mail.db` },
      autoAccept,
    );
    const box = await mailbox();
    const held = ok(await s.call('send_email', { mailbox: box, to: 'you@mailgate.test', subject: 'Keys', text: `here: ${AWS_KEY}` }));
    const approve = await s.call('queue_approve', { message_id: held.message_id });
    expect(textOf(approve)).toMatch(/^CONFIRMATION_REQUIRED: .*approvals\.confirm_with.*mailgate approve msg_\S+ --db \/srv\/mail\.db/);
    const loosen = await s.call('update_mailbox', { address: box, oversight_mode: 'autonomous', change_reason: 'x' });
    expect(textOf(loosen)).toMatch(/^CONFIRMATION_REQUIRED: .*approvals\.confirm_with.*mailgate mailbox update/);
    expect(s.elicitations).toEqual([]);
    expect((await h.app.store.getMessage(held.message_id as string))!.status).toBe('pending');
    expect(await modeOf(box)).toBe('gated_send');
    await s.close();
  });

  it('can when the config accepts forms (approvals.confirm_with: ["url", "form"]); the audit records the channel', async () => {
    const f = await startHarness({ config: { ...DEFAULT_CONFIG_INPUT, approvals: { confirm_with: ['url', 'form'] } } });
    try {
      const s = await openSession(f.app, { roles: ['agent', 'reviewer', 'operator'] }, autoAccept);
      const r = ok(await s.call('update_mailbox', { address: 'agent@mailgate.test', oversight_mode: 'autonomous', change_reason: 'form ok' }));
      expect(r.oversight_mode).toBe('autonomous');
      expect(s.elicitations.map((e) => e.mode)).toEqual(['form']);
      expect(s.elicitations[0]!.message).toContain('mode gated_send -> autonomous on agent@mailgate.test, reason "form ok"');
      const events = await f.app.store.audit({ mailbox: 'agent@mailgate.test', limit: 100 });
      expect(events.find((e) => e.action === 'mailbox.confirmation_requested')!.detail).toMatchObject({ path: 'elicitation_form' });
      expect(events.find((e) => e.action === 'mailbox.mode_changed')!.detail).toMatchObject({ confirmation: 'elicitation_form' });
      await s.close();
    } finally {
      await f.close();
    }
  });
});

describe('changes with no MCP tool: suppressions and webhooks', () => {
  const model: Principal = { id: 'mcp:agent+operator/x', roles: ['agent', 'operator'], mailboxes: 'all' };
  it('a principal that can draft is refused removing a suppression or managing webhooks, with the command', async () => {
    await expect(unsuppress(h.app, model, { entry: 'blocked.example' })).rejects.toMatchObject({
      code: 'CONFIRMATION_REQUIRED',
      message: expect.stringContaining('mailgate suppress remove blocked.example'),
    });
    await expect(addWebhook(h.app, model, { url: 'https://hooks.example/x', secret: [`whsec_${'A'.repeat(32)}`] } as never)).rejects.toMatchObject({
      code: 'CONFIRMATION_REQUIRED',
      message: expect.not.stringContaining('whsec_'),
    });
    await expect(removeWebhook(h.app, model, 'wh_x', null)).rejects.toMatchObject({ code: 'CONFIRMATION_REQUIRED' });
  });
});

describe('config approvals.confirm_with', () => {
  it('defaults to url only, and refuses unknown or repeated channels naming the key', () => {
    expect(Config.parse({}).approvals).toEqual({ confirm_with: ['url'] });
    expect(Config.parse({ approvals: {} }).approvals).toEqual({ confirm_with: ['url'] });
    expect(Config.parse({ approvals: { confirm_with: [] } }).approvals.confirm_with).toEqual([]);
    for (const bad of [['sms'], ['url', 'url']]) {
      const r = Config.safeParse({ approvals: { confirm_with: bad } });
      expect(r.success).toBe(false);
      expect(r.error!.issues[0]!.message).toContain('approvals.confirm_with');
    }
    expect(Config.safeParse({ approvals: { confirm: ['form'] } }).success).toBe(false);
  });
});
