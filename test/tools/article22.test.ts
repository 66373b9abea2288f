/**
 * GDPR Art. 22 (issue 11): a draft marked as an automated decision about a person is held for a person on a
 * mailbox in Art. 22 scope, in every mode and past every auto-approve rule; the export selects exactly those
 * messages with the record a data protection authority asks for. Real SDK clients, real app.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { policyLoosenings } from '../../src/gate/loosening.js';
import { exportAudit } from '../../src/services/audit-export.js';
import { type Harness, ok, startHarness, textOf } from './harness.js';

const SCOPE = { gdpr_article22_scope: true };
const AUTO = 'decisions@bank.test'; // autonomous, in scope
const WATCHED = 'watched@bank.test'; // monitored, in scope
const RULED = 'ruled@bank.test'; // gated_send with an auto-approve-everything rule, in scope
const PLAIN = 'plain@bank.test'; // autonomous, not in scope
let h: Harness;
beforeEach(async () => {
  h = await startHarness({
    config: {
      mailboxes: [
        { address: AUTO, oversight_mode: 'autonomous', policy: SCOPE },
        { address: WATCHED, oversight_mode: 'monitored', policy: SCOPE },
        { address: RULED, oversight_mode: 'gated_send', auto_approve_rules: [{ type: 'all' }], policy: SCOPE },
        { address: PLAIN, oversight_mode: 'autonomous' },
      ],
    },
  });
});
afterEach(async () => {
  await h?.close();
});

const letter = (mailbox: string, extra: Record<string, unknown> = {}) =>
  h.agent.call('send_email', { mailbox, to: 'applicant@example.com', subject: 'Your application', text: 'We have decided.', ...extra });
const DECISION = { automated_decision: true, decision_type: 'credit' };

describe('the Art. 22 hold', () => {
  it('holds a marked draft in autonomous, monitored and auto-approved mailboxes in scope; unmarked mail goes', async () => {
    for (const mailbox of [AUTO, WATCHED, RULED]) {
      const marked = ok(await letter(mailbox, DECISION));
      expect(marked.status, mailbox).toBe('pending');
      const m = ok(await h.agent.call('get_message', { message_id: marked.message_id }));
      expect(m.gate).toMatchObject({ code: 'hold_automated_decision', reason: expect.stringContaining('credit') });
      expect(m.metadata).toEqual({ automated_decision: true, decision_type: 'credit' });
      expect(ok(await letter(mailbox, { subject: `plain ${mailbox}` })).status, mailbox).toBe('sent');
    }
  });

  it('does not hold outside scope', async () => {
    expect(ok(await letter(PLAIN, DECISION)).status).toBe('sent');
  });

  it('refuses a half-made mark, naming the field', async () => {
    const noType = await letter(AUTO, { automated_decision: true });
    expect(textOf(noType)).toMatch(/INVALID_INPUT: decision_type: say what kind of decision/);
    const noFlag = await letter(AUTO, { decision_type: 'credit' });
    expect(textOf(noFlag)).toMatch(/INVALID_INPUT: decision_type: is for a draft that states an automated decision/);
    const unknown = await letter(AUTO, { automated_decision: true, decision_type: 'vibes' });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toMatch(/decision_type/);
  });

  it('reply and forward take the mark too', async () => {
    ok(await h.agent.call('send_email', { mailbox: PLAIN, to: AUTO, subject: 'My application', text: 'Please decide.' }));
    const [email] = ok(await h.agent.call('check_inbox', { mailbox: AUTO })).emails as { email_id: string }[];
    const reply = ok(await h.agent.call('reply_email', { email_id: email!.email_id, text: 'Declined.', ...DECISION }));
    const forward = ok(
      await h.agent.call('forward_email', { email_id: email!.email_id, to: 'risk@example.com', automated_decision: true, decision_type: 'account_action' }),
    );
    expect([reply.status, forward.status]).toEqual(['pending', 'pending']);
  });

  it('turning the scope off is a loosening', () => {
    expect(policyLoosenings({ gdpr_article22_scope: true }, {})).toEqual(['gdpr_article22_scope']);
    expect(policyLoosenings({}, { gdpr_article22_scope: true })).toEqual([]);
  });
});

describe('the record for a data protection authority', () => {
  it('audit export selects exactly the marked messages: agent, drafted, classification, reviewer, note, decided, delivered', async () => {
    const held = ok(await letter(AUTO, DECISION));
    ok(await letter(AUTO, { subject: 'unmarked' }));
    ok(await h.reviewer.call('queue_approve', { message_id: held.message_id, note: 'checked the file by hand' }));
    // get_audit for the message shows its classification beside its events.
    const trail = ok(await h.reviewer.call('get_audit', { message_id: held.message_id }));
    expect(trail.metadata).toEqual({ automated_decision: true, decision_type: 'credit' });
    expect(trail.events.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['message.held', 'message.approved']));
    expect(ok(await h.reviewer.call('get_audit', { mailbox: AUTO })).metadata).toBeUndefined();
    const records: Record<string, any>[] = [];
    for await (const r of exportAudit(h.app, { id: 'dpo', roles: ['reviewer'], mailboxes: 'all' }, { automatedDecisions: true })) records.push(r);
    const messages = records.filter((r) => r.type === 'message');
    expect(records[0]).toMatchObject({ type: 'chain', ok: true });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      message_id: held.message_id,
      agent: expect.stringMatching(/^mcp:agent/),
      drafted_at: expect.any(String),
      classification: { automated_decision: true, decision_type: 'credit' },
      gate: { code: 'hold_automated_decision' },
      decision: { action: 'approved', by: expect.stringMatching(/^mcp:reviewer/), reason: 'checked the file by hand', at: expect.any(String) },
      delivery: { status: 'sent', sent_at: expect.any(String) },
    });
  });
});
