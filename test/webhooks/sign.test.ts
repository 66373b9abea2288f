/**
 * Our signer against the `standardwebhooks` package (an independent implementation of the spec, used as a
 * receiver would): what we sign verifies; a tampered body, an old timestamp, another secret do not.
 */
import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { MAX_ATTEMPTS, RETRY_SCHEDULE, retryDelay } from '../../src/webhooks/dispatcher.js';
import { newWebhookSecret, secretProblem, sign, signatureHeaders } from '../../src/webhooks/sign.js';
import { verify } from './helpers.js';

const body = JSON.stringify({ type: 'email.pending', timestamp: '2026-01-01T00:00:00.000Z', data: { subject: 'Grüße ✓' } });
const now = () => Math.floor(Date.now() / 1000);

describe('Standard Webhooks signatures', () => {
  it('verify with the standardwebhooks library, and match its own signer byte for byte', () => {
    const secret = newWebhookSecret();
    const ts = now();
    const headers = signatureHeaders([secret], 'evt_abc', ts, body);
    expect(verify(secret, { body, headers })).toEqual(JSON.parse(body));
    expect(headers['webhook-signature']).toBe(new Webhook(secret).sign('evt_abc', new Date(ts * 1000), body));
  });

  it('reject a tampered body, a changed id, an old or future timestamp, and another secret', () => {
    const secret = newWebhookSecret();
    const ts = now();
    const headers = signatureHeaders([secret], 'evt_abc', ts, body);
    expect(() => verify(secret, { body: body.replace('pending', 'approved'), headers })).toThrow(/signature/i);
    expect(() => verify(secret, { body, headers: { ...headers, 'webhook-id': 'evt_other' } })).toThrow(/signature/i);
    expect(() => verify(newWebhookSecret(), { body, headers })).toThrow(/signature/i);
    // A replay: correctly signed, but ten minutes old (the spec's tolerance is five).
    const old = signatureHeaders([secret], 'evt_abc', ts - 600, body);
    expect(() => verify(secret, { body, headers: old })).toThrow(/too old/i);
    const future = signatureHeaders([secret], 'evt_abc', ts + 600, body);
    expect(() => verify(secret, { body, headers: future })).toThrow(/too new/i);
  });

  it('sign with every secret during a rotation, so a receiver with either one verifies', () => {
    const [next, prev] = [newWebhookSecret(), newWebhookSecret()];
    const headers = signatureHeaders([next, prev], 'evt_rot', now(), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => verify(next, { body, headers })).not.toThrow();
    expect(() => verify(prev, { body, headers })).not.toThrow();
  });

  it('sign the spec’s published example the same way (id.timestamp.body, base64 HMAC-SHA256)', () => {
    // From the Standard Webhooks reference libraries' tests.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const payload = '{"test": 2432232314}';
    expect(sign(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, payload)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
});

describe('secrets', () => {
  it('generates whsec_ secrets of 32 random bytes that the library accepts', () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secretProblem(a)).toBeNull();
    expect(a).not.toBe(newWebhookSecret());
    expect(() => new Webhook(a)).not.toThrow();
  });

  it.each([
    ['no prefix', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', /starts with 'whsec_'/],
    ['not base64', 'whsec_not base64!', /standard base64/],
    ['too short (16 bytes)', `whsec_${Buffer.alloc(16, 1).toString('base64')}`, /16 bytes/],
    ['too long (65 bytes)', `whsec_${Buffer.alloc(65, 1).toString('base64')}`, /65 bytes/],
  ])('refuses a secret with %s, without quoting it', (_, s, why) => {
    const problem = secretProblem(s);
    expect(problem).toMatch(why);
    expect(problem).not.toContain(s.slice(6));
  });
});

describe('retry schedule', () => {
  it('spans about a day in eleven attempts, each delay within ±20 % jitter', () => {
    const base = 5000;
    const total = RETRY_SCHEDULE.reduce((sum, step) => sum + step * base, 0);
    expect(total / 3_600_000).toBeGreaterThan(22);
    expect(total / 3_600_000).toBeLessThan(26);
    expect(MAX_ATTEMPTS).toBe(11);
    expect(retryDelay(1, base, () => 0.5)).toBe(5000);
    expect(retryDelay(1, base, () => 0)).toBe(4000);
    expect(retryDelay(1, base, () => 1)).toBe(6000);
    expect(retryDelay(10, base, () => 0.5)).toBe(8 * 3_600_000);
    expect(retryDelay(MAX_ATTEMPTS, base)).toBeNull();
  });
});
