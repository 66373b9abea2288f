/**
 * Webhook signatures as the Standard Webhooks specification defines them
 * (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md, "Signature
 * scheme"), so any receiver library for that spec verifies mailgate's deliveries and rejects replays:
 *
 *   webhook-id:        the event id, the same on every retry (receivers de-duplicate on it)
 *   webhook-timestamp: seconds since the epoch, of this attempt (receivers refuse ones outside ~5 minutes)
 *   webhook-signature: "v1,<base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`>", one per secret, space-separated
 *
 * The key is the base64 part of a `whsec_` secret, decoded. We sign with node:crypto rather than the
 * `standardwebhooks` package: signing is these few lines over a vetted HMAC, with no runtime dependency, and
 * keeping the package out of src lets the tests use it as an independent receiver that is not the code under test.
 */
import { createHmac, randomBytes } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';
/** The spec asks for keys of 24 to 64 bytes. */
const SECRET_MIN_BYTES = 24;
const SECRET_MAX_BYTES = 64;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Why a secret is unusable, or null when it is fine. Never quotes the secret. */
export function secretProblem(secret: string): string | null {
  const hint = "generate one with 'mailgate webhook secret'";
  if (!secret.startsWith(SECRET_PREFIX)) return `a webhook secret starts with '${SECRET_PREFIX}'; ${hint}`;
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!BASE64.test(b64)) return `the part after '${SECRET_PREFIX}' must be standard base64; ${hint}`;
  const bytes = Buffer.from(b64, 'base64').length;
  if (bytes < SECRET_MIN_BYTES || bytes > SECRET_MAX_BYTES) {
    return `the secret decodes to ${bytes} bytes; it must be ${SECRET_MIN_BYTES} to ${SECRET_MAX_BYTES}; ${hint}`;
  }
  return null;
}

/** A fresh secret in the `whsec_` form: 32 random bytes, as many as HMAC-SHA256 puts out, so the key is never the weak part. */
export function newWebhookSecret(bytes = 32): string {
  return SECRET_PREFIX + randomBytes(bytes).toString('base64');
}

/** One `v1,<base64>` signature of the exact bytes sent. */
export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`, 'utf8').digest('base64');
  return `v1,${mac}`;
}

/** The three Standard Webhooks headers. Several secrets (a rotation in progress) give several signatures. */
export function signatureHeaders(secrets: readonly string[], id: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((s) => sign(s, id, timestampSeconds, body)).join(' '),
  };
}
