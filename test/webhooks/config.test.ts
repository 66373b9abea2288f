/**
 * `webhooks` in the config file: every bad entry reported by key (and never by quoting its secret), and the
 * file's endpoints synced into the database at start: added, secret updated in place, removed ones disabled
 * with their history kept, each addition and removal audited; operator endpoints left alone.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { MailgateError } from '../../src/errors.js';
import { addWebhook } from '../../src/services/webhooks.js';
import type { SqliteStore } from '../../src/domain/sqlite-store.js';
import { tempDir } from '../helpers/tmp.js';
import { GATED, MAILBOXES, OPERATOR, SHORT_TTL, secret } from './helpers.js';

const dir = tempDir('mailgate-webhook-config-');
afterAll(() => dir.cleanup());

function problemsOf(webhooks: unknown[]): string[] {
  const path = dir.file(`bad-${Math.random()}.json`);
  writeFileSync(path, JSON.stringify({ mailboxes: MAILBOXES, testing: SHORT_TTL, webhooks }));
  try {
    loadConfig({ config: path, db: dir.file('unused.db') }, {});
  } catch (err) {
    expect(err).toBeInstanceOf(MailgateError);
    expect((err as MailgateError).code).toBe('CONFIG_INVALID');
    return (err as MailgateError).details.problems as string[];
  }
  throw new Error('expected the config to be refused');
}

describe('config validation', () => {
  const good = secret();

  it.each([
    ['a non-http URL', { url: 'ftp://127.0.0.1/x', secret: good }, /webhooks\[0\]\.url: the URL must be http or https, not ftp/],
    ['not a URL', { url: 'hooks.example', secret: good }, /webhooks\[0\]\.url: not a URL/],
    ['credentials in the URL', { url: 'https://u:p@hooks.example.com/x', secret: good }, /webhooks\[0\]\.url: remove the user name and password/],
    [
      'a secret without whsec_',
      { url: 'https://hooks.example.com/x', secret: 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0' },
      /webhooks\[0\]\.secret: a webhook secret starts with 'whsec_'/,
    ],
    [
      'a short secret',
      { url: 'https://hooks.example.com/x', secret: `whsec_${Buffer.alloc(8).toString('base64')}` },
      /webhooks\[0\]\.secret: the secret decodes to 8 bytes/,
    ],
    [
      'an unknown event',
      { url: 'https://hooks.example.com/x', secret: good, events: ['email.pending', 'email.opened'] },
      /webhooks\[0\]\.events\[1\]: unknown event; use one of email\.pending/,
    ],
    [
      'a mailbox not in the config',
      { url: 'https://hooks.example.com/x', secret: good, mailbox: 'nobody@mailgate.test' },
      /webhooks\[0\]\.mailbox: nobody@mailgate\.test is not a mailbox in this config/,
    ],
    ['an unknown key', { url: 'https://hooks.example.com/x', secret: good, retries: 3 }, /webhooks\[0\]: .*retries/],
  ])('refuses %s, naming the key', (_, entry, want) => {
    const problems = problemsOf([entry]);
    expect(problems.join('\n')).toMatch(want);
    expect(problems.join('\n')).not.toContain(good.slice(6));
  });

  it('refuses the same URL twice for one mailbox', () => {
    expect(
      problemsOf([
        { url: 'https://hooks.example.com/x', secret: good },
        { url: 'https://hooks.example.com/x', secret: secret() },
      ]).join('\n'),
    ).toMatch(/webhooks\[1\]: https:\/\/hooks\.example\.com\/x is listed twice/);
  });

  it('accepts a list of secrets while rotating', () => {
    const path = dir.file('rotating.json');
    writeFileSync(
      path,
      JSON.stringify({ mailboxes: MAILBOXES, testing: SHORT_TTL, webhooks: [{ url: 'https://hooks.example.com/x', secret: [good, secret()] }] }),
    );
    expect(loadConfig({ config: path }, {}).config.webhooks[0]!.secret).toHaveLength(2);
  });
});

describe('config sync at start', () => {
  const db = dir.file('sync.db');
  const path = dir.file('sync.json');
  const start = async (webhooks: unknown[] | null) => {
    if (webhooks) writeFileSync(path, JSON.stringify({ mailboxes: MAILBOXES, testing: SHORT_TTL, webhooks }));
    return createApp(loadConfig({ config: webhooks ? path : undefined, db }, {}));
  };
  const rows = (app: Awaited<ReturnType<typeof start>>) =>
    (app.store as SqliteStore).db.prepare('SELECT endpoint_id, url, secret, source, disabled_at FROM webhook_endpoints ORDER BY created_at, url').all() as {
      endpoint_id: string;
      url: string;
      secret: string;
      source: string;
      disabled_at: number | null;
    }[];

  it('adds, keeps, updates secrets in place, disables what left the file, and audits it without secrets', async () => {
    const [s1, s2, s3] = [secret(), secret(), secret()];
    let app = await start([
      { url: 'https://hooks.example.com/a', secret: s1 },
      { url: 'https://hooks.example.com/b', secret: s2, mailbox: GATED },
    ]);
    await addWebhook(app, OPERATOR, { url: 'https://hooks.example.com/operator', secret: [s3] });
    const first = rows(app);
    expect(first.map((r) => [r.url, r.source, r.disabled_at])).toEqual([
      ['https://hooks.example.com/a', 'config', null],
      ['https://hooks.example.com/b', 'config', null],
      ['https://hooks.example.com/operator', 'operator', null],
    ]);
    await app.close();

    // Restart with the same file: nothing changes.
    app = await start([
      { url: 'https://hooks.example.com/a', secret: s1 },
      { url: 'https://hooks.example.com/b', secret: s2, mailbox: GATED },
    ]);
    expect(rows(app)).toEqual(first);
    await app.close();

    // /a gets a new secret, /b leaves the file.
    const s4 = secret();
    app = await start([{ url: 'https://hooks.example.com/a', secret: s4 }]);
    const after = rows(app);
    expect(after.find((r) => r.url.endsWith('/a'))).toMatchObject({ endpoint_id: first[0]!.endpoint_id, secret: s4, disabled_at: null });
    expect(after.find((r) => r.url.endsWith('/b'))!.disabled_at).not.toBeNull();
    expect(after.find((r) => r.url.endsWith('/operator'))!.disabled_at).toBeNull();

    const audit = await app.store.audit({ limit: 1000 });
    const hooks = audit.filter((e) => e.action.startsWith('webhook.'));
    expect(hooks.map((e) => [e.action, e.detail.url])).toEqual([
      ['webhook.added', 'https://hooks.example.com/a'],
      ['webhook.added', 'https://hooks.example.com/b'],
      ['webhook.added', 'https://hooks.example.com/operator'],
      ['webhook.removed', 'https://hooks.example.com/b'],
    ]);
    expect(hooks[3]!.detail).toMatchObject({ reason: 'no longer in the config file', source: 'config' });
    const text = JSON.stringify(audit);
    for (const s of [s1, s2, s3, s4]) expect(text).not.toContain(s.slice(6));
    await app.close();

    // Started without a file (the built-in default): the file's endpoints are left as they are.
    app = await start(null);
    expect(rows(app).filter((r) => r.disabled_at === null)).toHaveLength(2);
    await app.close();
  });
});
