/**
 * The `oauth2` block of a mailbox's imap/smtp settings: what the schema refuses (each problem naming the key
 * and the fix), what resolving the secrets reports, and that IMAP and SMTP with the same block share one
 * token source (so a rotated refresh token serves both).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveAccount } from '../../src/config/accounts.js';
import { MailboxConfig } from '../../src/config/schema.js';
import { providerPreset } from '../../src/mail/oauth2/providers.js';

const dir = mkdtempSync('/tmp/mg-oauth2-cfg-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const server = (oauth2: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  host: 'imap.example.com',
  user: 'me@example.com',
  oauth2,
  ...extra,
});
const entry = (oauth2: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  address: 'me@example.com',
  imap: server(oauth2, extra),
  smtp: server(oauth2, extra),
});
/** The schema's problems as "path: message" lines. */
function problems(oauth2: Record<string, unknown>, extra: Record<string, unknown> = {}): string[] {
  const r = MailboxConfig.safeParse(entry(oauth2, extra));
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('the oauth2 config block', () => {
  const google = { provider: 'google', client_id: 'id.apps.googleusercontent.com', refresh_token_env: 'GMAIL_REFRESH' };

  it('accepts a preset provider with a refresh token source and nothing else', () => {
    expect(problems(google)).toEqual([]);
    expect(problems({ provider: 'microsoft', client_id: 'x', refresh_token_file: '/etc/mg/token', tenant: 'contoso.onmicrosoft.com' })).toEqual([]);
  });

  it('refuses each mistake with the key and the fix', () => {
    expect(problems({ ...google, refresh_token_env: undefined })).toContainEqual(
      expect.stringMatching(/^imap\.oauth2\.refresh_token_file: give exactly one of refresh_token_env or refresh_token_file/),
    );
    expect(problems({ ...google, refresh_token_file: '/x' })).toContainEqual(expect.stringContaining('exactly one of refresh_token_env or refresh_token_file'));
    expect(problems({ ...google, provider: 'custom' })).toContainEqual(expect.stringMatching(/^imap\.oauth2\.token_url: is required for provider 'custom'/));
    expect(problems({ ...google, provider: 'yahoo' })).toContainEqual(expect.stringContaining("oauth2.provider must be 'google', 'microsoft' or 'custom'"));
    expect(problems({ ...google, token_url: 'http://tokens.example.com/token' })).toContainEqual(
      expect.stringMatching(/token_url: must be https:\/\/ \(plain http only to 127\.0\.0\.1 or localhost\)/),
    );
    expect(problems({ ...google, tenant: 'x' })).toContainEqual(expect.stringMatching(/^imap\.oauth2\.tenant: applies to provider 'microsoft' only/));
    expect(problems({ ...google, client_secret_env: 'A', client_secret_file: '/b' })).toContainEqual(
      expect.stringContaining('at most one of client_secret_env'),
    );
    expect(problems({ ...google, refresh_token_env: 'not a name' })).toContainEqual(expect.stringContaining('must be an environment variable name'));
    expect(problems({ ...google, clientid: 'typo' }).join('\n')).toMatch(/clientid/);
    expect(problems(google, { password: 'p' })).toContainEqual(
      expect.stringContaining('give exactly one of password, password_env, password_file, access_token_env or oauth2'),
    );
  });

  it('resolving reports a missing variable or an unreadable file under the full key, and never a secret', () => {
    const cfg = MailboxConfig.parse(entry({ ...google, client_secret_file: join(dir, 'missing-secret') }));
    const r = resolveAccount(cfg, 'mailboxes[0]', {});
    expect(r.account).toBeUndefined();
    expect(r.problems).toContainEqual(expect.stringMatching(/^mailboxes\[0\]\.imap\.oauth2\.refresh_token_env: environment variable GMAIL_REFRESH is not set/));
    expect(r.problems).toContainEqual(expect.stringMatching(/^mailboxes\[0\]\.imap\.oauth2\.client_secret_file: cannot read .*missing-secret \(ENOENT\)/));
    const empty = join(dir, 'empty.token');
    writeFileSync(empty, '\n');
    const r2 = resolveAccount(MailboxConfig.parse(entry({ ...google, refresh_token_env: undefined, refresh_token_file: empty })), 'mailboxes[0]', {});
    expect(r2.problems).toContainEqual(expect.stringContaining(`refresh_token_file: ${empty} is empty; put the refresh token (run \`mailgate oauth login\``));
  });

  it('IMAP and SMTP with the same block share one token source; different blocks get their own', () => {
    const env = { GMAIL_REFRESH: 'refresh-token-value' };
    const same = resolveAccount(MailboxConfig.parse(entry(google)), 'mailboxes[0]', env).account!;
    expect('tokens' in same.imap.auth && 'tokens' in same.smtp.auth && same.imap.auth.tokens === same.smtp.auth.tokens).toBe(true);
    const cfg = MailboxConfig.parse({ ...entry(google), smtp: server({ ...google, scopes: ['https://mail.google.com/'] }) });
    const apart = resolveAccount(cfg, 'mailboxes[0]', env).account!;
    expect('tokens' in apart.imap.auth && 'tokens' in apart.smtp.auth && apart.imap.auth.tokens !== apart.smtp.auth.tokens).toBe(true);
  });

  it('presets: Google asks for offline access; Microsoft puts the tenant in both endpoints and asks for offline_access', () => {
    expect(providerPreset('google')).toMatchObject({
      tokenUrl: 'https://oauth2.googleapis.com/token',
      scopes: ['https://mail.google.com/'],
      authParams: { access_type: 'offline', prompt: 'consent' },
    });
    const ms = providerPreset('microsoft', 'contoso.onmicrosoft.com')!;
    expect(ms.authUrl).toBe('https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize');
    expect(ms.tokenUrl).toBe('https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token');
    expect(ms.scopes.join(' ')).toBe('https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access');
    expect(providerPreset('microsoft')!.tokenUrl).toContain('/common/');
    expect(providerPreset('custom')).toBeUndefined();
  });
});
