/**
 * `mailgate approve` says with its exit code whether the mail went out (issue 12): the approval is recorded
 * either way, but a delivery that failed or whose outcome is unknown exits 5 and names the next step, while a
 * retry scheduled after a temporary failure is accepted (0). Against the scripted fake SMTP server; the agent's
 * server is closed before the CLI approves, so the CLI process makes the only delivery attempt.
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ok, runCli } from './harness.js';
import { rows, serve, smtpMailbox, useFakeSmtpSuite } from './smtp-harness.js';

const suite = useFakeSmtpSuite('mailgate-e2e-cli-approve-');
const { tmp } = suite;
const home = tmp.path;

/** A gated_send mailbox on the fake server, one message held in it, and `approve` for it through the CLI. */
async function held(name: string) {
  const address = `${name}@corp.example`;
  const db = tmp.file(`${name}.db`);
  const config = tmp.file(`${name}.json`);
  writeFileSync(config, JSON.stringify({ mailboxes: [smtpMailbox(address, suite.fake, suite.closedPort, 'gated_send')] }));
  const agent = await serve({ config, db, home });
  const { message_id: id } = ok<{ message_id: string; status: string }>(
    await agent.call('send_email', { mailbox: address, to: 'ann@dest.example', subject: name, text: 'x' }),
  );
  await agent.close();
  const approve = (...more: string[]) => runCli(['approve', id, '--config', config, '--db', db, '--as', 'alice', ...more], { home, timeoutMs: 20_000 });
  return { id, db, config, approve };
}

describe('approve: the exit code says whether the mail went out', () => {
  it('delivered: exit 0, sent', async () => {
    const { id, approve } = await held('fine');
    const r = await approve();
    expect(r.stdout).toBe(`${id}: sent\n`);
    expect(r.stderr).not.toContain('mailgate:');
    expect(r.code).toBe(0);
  });

  it('a permanent refusal: exit 5, the approval is kept, and it says the mail was not sent and how to send it', async () => {
    const { id, db, approve } = await held('refused');
    suite.fake.script.rcpt = () => ({ do: 'reply', code: 550, message: '5.1.1 no such user' });
    const r = await approve();
    expect(r.code).toBe(5);
    expect(r.stdout).toMatch(new RegExp(`^${id}: failed \\(.*550`));
    expect(r.stderr).toMatch(new RegExp(`mailgate: approved ${id}, but its delivery failed .*it was not sent. To send it, draft it again`));
    expect(rows(db)[0]).toMatchObject({ status: 'failed' });
  });

  it('outcome unknown (the connection dropped after the final dot): exit 5 and the exact resolve command', async () => {
    const { id, db, config, approve } = await held('unknown');
    suite.fake.script.end = () => ({ do: 'drop', record: true });
    const r = await approve('--json');
    expect(r.code).toBe(5);
    expect(JSON.parse(r.stdout)).toMatchObject({ message_id: id, status: 'outcome_unknown' });
    expect(r.stderr).toContain(`approved ${id}, but the delivery's outcome is unknown`);
    expect(r.stderr).toContain(`mailgate resolve ${id} --delivered|--not-delivered --reason TEXT --db ${db} --config ${config}`);
    expect(rows(db)[0]).toMatchObject({ status: 'outcome_unknown' });
  });

  it('a temporary failure: exit 0, accepted, with the retry it scheduled', async () => {
    const { id, db, approve } = await held('later');
    suite.fake.script.rcpt = () => ({ do: 'reply', code: 450, message: '4.2.1 try later' });
    const r = await approve();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${id}: queued \\(.*450`));
    expect(r.stderr).toMatch(new RegExp(`mailgate: approved ${id}: accepted; delivery failed temporarily, retry 2 is scheduled at \\d{4}-`));
    expect(rows(db)[0]).toMatchObject({ status: 'queued', attempts: 1 });
  });
});
