/** mail_wait's MCPMail vocabulary (src/services/wait-timeout.ts): `timeout` durations, which wait, the resume hint. */
import { describe, expect, it } from 'vitest';
import { MailgateError } from '../../src/errors.js';
import { formatWaitTotal, parseWaitTotal, planWait, resumeArgs, WaitTotal } from '../../src/services/wait-timeout.js';

describe('timeout durations', () => {
  it.each([
    ['48h', 172_800],
    ['90s', 90],
    ['30m', 1800],
    ['1h30m', 5400],
    ['2d', 172_800],
    ['47h58m10s', 172_690],
    [' 1h 5m ', 3900],
  ])('%s is %i seconds, and formats back to a value that parses the same', (text, seconds) => {
    expect(parseWaitTotal(text)).toBe(seconds);
    expect(parseWaitTotal(formatWaitTotal(seconds))).toBe(seconds);
  });

  it.each(['', 'h', '48', '5m1h', '1.5h', 'forever', '48hours'])('refuses %j', (text) => {
    expect(Number.isNaN(parseWaitTotal(text))).toBe(true);
    const r = WaitTotal.safeParse(text);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/^timeout: expected a duration/);
  });

  it('refuses zero and more than a year', () => {
    expect(WaitTotal.safeParse('0s').success).toBe(false);
    expect(WaitTotal.safeParse('366d').success).toBe(false);
  });

  it('formats what is left in hours, minutes and seconds, rounding up', () => {
    expect(formatWaitTotal(172_800 - 120)).toBe('47h58m');
    expect(formatWaitTotal(59.2)).toBe('1m');
    expect(formatWaitTotal(0)).toBe('0s');
  });
});

function refusal(f: () => unknown): MailgateError {
  try {
    f();
  } catch (err) {
    if (err instanceof MailgateError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('planWait', () => {
  it('takes after_message as message_id, and a total timeout as the per-call maximum', () => {
    const p = planWait({ after_message: 'msg_abcdef', timeout: 172_800 }, 50);
    expect(p).toEqual({ target: { kind: 'message', id: 'msg_abcdef', spelling: 'after_message' }, callSeconds: 50, totalSeconds: 172_800 });
    expect(planWait({ message_id: 'msg_abcdef' }, 50).callSeconds).toBe(30);
    expect(planWait({ message_id: 'msg_abcdef', timeout: 10 }, 50).callSeconds).toBe(10);
    expect(planWait({ message_id: 'msg_abcdef', after_message: 'msg_abcdef' }, 50).target).toMatchObject({ id: 'msg_abcdef' });
  });

  it.each([
    [{}, 'message_id'],
    [{ message_id: 'msg_abcdef', after_message: 'msg_zzzzzz' }, 'after_message'],
    [{ message_id: 'msg_abcdef', mailbox: 'a@b.test' }, 'mailbox'],
    [{ message_id: 'msg_abcdef', from: 'x' }, 'from'],
    [{ mailbox: 'a@b.test', since: '2026-01-01T00:00:00Z', cursor: 'c' }, 'since'],
  ])('refuses %j naming %s', (args, field) => {
    const err = refusal(() => planWait(args, 50));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message.startsWith(`${field}: `)).toBe(true);
  });
});

describe('resumeArgs', () => {
  const message = planWait({ after_message: 'msg_abcdef', timeout: 172_800 }, 50);

  it('hands back the spelling the caller used and what is left of the total', () => {
    expect(resumeArgs(message, { done: false, waitedMs: 120_000 })).toEqual({ after_message: 'msg_abcdef', timeout: '47h58m' });
  });

  it('is null once the message is done or the total is used up', () => {
    expect(resumeArgs(message, { done: true, waitedMs: 1000 })).toBeNull();
    expect(resumeArgs(planWait({ message_id: 'msg_abcdef', timeout: 30 }, 50), { done: false, waitedMs: 30_000 })).toBeNull();
  });

  it('carries the filters and the cursor of a wait for inbound mail', () => {
    const p = planWait({ mailbox: 'a@b.test', from: 'carol', timeout_seconds: 5 }, 50);
    expect(resumeArgs(p, { done: false, waitedMs: 5000, cursor: 'CUR', timeoutSeconds: 5 })).toEqual({
      mailbox: 'a@b.test',
      from: 'carol',
      cursor: 'CUR',
      timeout_seconds: 5,
    });
  });
});
