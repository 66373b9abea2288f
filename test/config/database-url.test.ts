/**
 * Where the database is (issue 13): `database`, MAILGATE_DATABASE_URL, --db and MAILGATE_DB take a SQLite path or
 * a postgres:// URL. A URL that is not a supported one is refused before anything is opened, naming where it came
 * from, so mailgate never creates a file or directory named after a connection string; and the password is never
 * shown, in an error or in the display form that logs use.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseDisplay, databaseFlags, loadConfig } from '../../src/config/load.js';
import { MailgateError } from '../../src/errors.js';
import { parseDatabaseLocation } from '../../src/store/location.js';
import { tempDir } from '../helpers/tmp.js';

/** Distinctive, so a leak cannot hide behind a common word; the halves catch a password split by a misparse. */
const PW = 'S3kr1tPW';
const leaks = (text: string) => text.includes(PW) || text.includes('S3kr1') || text.includes('1tPW');

const tmp = tempDir('mailgate-dburl-');
afterAll(() => tmp.cleanup());

function writeConfig(path: string, config: unknown): string {
  writeFileSync(path, JSON.stringify(config));
  return path;
}

function refusal(value: string, source = 'MAILGATE_DATABASE_URL'): MailgateError {
  try {
    parseDatabaseLocation(value, source);
  } catch (err) {
    expect(err).toBeInstanceOf(MailgateError);
    return err as MailgateError;
  }
  throw new Error(`expected ${source} to be refused`);
}

describe('parseDatabaseLocation', () => {
  it.each([
    'mailgate.db',
    './data/mailgate.db',
    '../mailgate.db',
    '/var/lib/mailgate/mailgate.db',
    'C:\\Users\\me\\mailgate.db',
    'C:/Users/me/mailgate.db',
    ':memory:',
    'backup:2024.db',
    'dir with space/mail gate.db',
  ])('keeps %s a SQLite path, as given', (value) => {
    expect(parseDatabaseLocation(value, '--db')).toEqual({ kind: 'sqlite', path: value });
  });

  it('takes file:///absolute/path as that path, and refuses file: URLs it would misread', () => {
    expect(parseDatabaseLocation('file:///var/lib/mail%20gate.db', '--db')).toEqual({ kind: 'sqlite', path: '/var/lib/mail gate.db' });
    expect(parseDatabaseLocation('FILE:///var/lib/m.db', '--db')).toEqual({ kind: 'sqlite', path: '/var/lib/m.db' });
    expect(refusal('file:///var/lib/m.db?mode=ro').message).toMatch(/SQLite URI parameters/);
    expect(refusal('file://otherhost/m.db').message).toMatch(/file:\/\/\/absolute\/path/);
  });

  it.each([
    [`postgres://mg:${PW}@db.example.com:5432/mailgate`, `postgres://mg:${PW}@db.example.com:5432/mailgate`, 'postgres://mg:***@db.example.com:5432/mailgate'],
    [`PostgreSQL://mg:${PW}@db/mailgate`, `postgresql://mg:${PW}@db/mailgate`, 'postgresql://mg:***@db/mailgate'],
    [`  postgres://mg:${PW}@db/mailgate\n`, `postgres://mg:${PW}@db/mailgate`, 'postgres://mg:***@db/mailgate'],
    ['postgres://mg@db/mailgate', 'postgres://mg@db/mailgate', 'postgres://mg@db/mailgate'],
    [`postgres://mg:p%40${PW}%2F@db/mailgate`, `postgres://mg:p%40${PW}%2F@db/mailgate`, 'postgres://mg:***@db/mailgate'],
    [
      `postgres://db/mailgate?sslmode=require&password=${PW}&sslpassword=${PW}`,
      `postgres://db/mailgate?sslmode=require&password=${PW}&sslpassword=${PW}`,
      'postgres://db/mailgate?sslmode=require&password=***&sslpassword=***',
    ],
    [`postgres://mg:${PW}@[::1]:6432/mailgate`, `postgres://mg:${PW}@[::1]:6432/mailgate`, 'postgres://mg:***@[::1]:6432/mailgate'],
    ['postgres:///mailgate?host=/var/run/postgresql', 'postgres:///mailgate?host=/var/run/postgresql', 'postgres:///mailgate?host=/var/run/postgresql'],
  ])('parses %j as PostgreSQL, displayed without the password', (value, url, display) => {
    const location = parseDatabaseLocation(value, 'MAILGATE_DATABASE_URL');
    expect(location).toEqual({ kind: 'postgres', url, display });
    expect(leaks(databaseDisplay(location))).toBe(false);
  });

  it.each([
    [`mysql://mg:${PW}@db/mailgate`, /a mysql: URL is not supported/],
    [`http://mg:${PW}@db.example.com/`, /a http: URL is not supported/],
    [`foo+bar://mg:${PW}@db/x`, /a foo\+bar: URL is not supported/],
    [`sqlite:///srv/${PW}.db`, /sqlite: URL is not taken/],
    ['sqlite:mailgate.db', /sqlite: URL is not taken/],
    [`jdbc:postgresql://mg:${PW}@db/mailgate`, /a jdbc: URL is not supported/],
    [`odbc://mg:${PW}@db/mailgate`, /an odbc: URL is not supported/],
    [`data/postgres://mg:${PW}@db/mailgate`, /looks like a URL/],
    [`postgres:mg:${PW}@db/mailgate`, /must start with postgres:\/\//],
    [`postgres://mg:${PW}@db:54x2/mailgate`, /port is not a number/],
    [`postgres://mg:${PW}@db:99999/mailgate`, /port is not a number/],
    [`postgres://mg:${PW}@/mailgate`, /names no host/],
    ['postgres://', /names no host/],
    [`postgres://mg:S3kr1/tPW@db/mailgate`, /'@' after its host.*percent-encoded/],
    [`postgres://mg:S3kr1#tPW@db/mailgate`, /'#'.*percent-encoded/],
    [`postgres://mg:S3kr1?tPW@db/mailgate`, /port is not a number|'@' after its host/],
    [`host=db dbname=mailgate password=${PW}`, /key=value connection string/],
    [`mg:${PW}@db/mailgate`, /without its scheme/],
    ['', /is empty/],
    ['   ', /is empty/],
  ])('refuses %j, naming the source and what is accepted, never the password', (value, problem) => {
    const err = refusal(value);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(/^MAILGATE_DATABASE_URL: /);
    expect(err.message).toMatch(problem);
    expect(err.message).toContain('give a SQLite file path (or a file:///absolute/path URL) or a postgres:// or postgresql:// URL');
    expect(leaks(err.message)).toBe(false);
    expect(leaks(JSON.stringify(err.details))).toBe(false);
  });
});

describe('loadConfig: which database', () => {
  mkdirSync(tmp.file('cfg'));
  const config = writeConfig(join(tmp.file('cfg'), 'mailgate.json'), { database: 'from-file.db' });
  const pg = `postgres://mg:${PW}@db.example.com/mailgate`;

  it('takes MAILGATE_DATABASE_URL, then --db, then MAILGATE_DB, then the file (relative to it), then the default', () => {
    const all = { MAILGATE_DATABASE_URL: '/srv/url.db', MAILGATE_DB: '/srv/env.db' };
    const where = (flags: { db?: string; config?: string }, env: NodeJS.ProcessEnv) => loadConfig(flags, env).database;
    expect(where({ db: '/srv/flag.db', config }, all)).toEqual({ kind: 'sqlite', path: '/srv/url.db' });
    expect(where({ db: '/srv/flag.db', config }, { MAILGATE_DB: '/srv/env.db' })).toEqual({ kind: 'sqlite', path: '/srv/flag.db' });
    expect(where({ config }, { MAILGATE_DB: '/srv/env.db' })).toEqual({ kind: 'sqlite', path: '/srv/env.db' });
    expect(where({ config }, {})).toEqual({ kind: 'sqlite', path: join(tmp.file('cfg'), 'from-file.db') });
    expect(where({}, {})).toEqual({ kind: 'sqlite', path: join(homedir(), '.mailgate', 'mailgate.db') });
    // MAILGATE_CONFIG chooses the file like --config; its `database` still yields to every other source.
    expect(where({}, { MAILGATE_CONFIG: config })).toEqual({ kind: 'sqlite', path: join(tmp.file('cfg'), 'from-file.db') });
  });

  it('gives PostgreSQL from any source as a location with no SQLite path, displayed redacted', () => {
    const file = writeConfig(tmp.file('pg.json'), { database: pg });
    for (const loaded of [
      loadConfig({ db: '/srv/flag.db' }, { MAILGATE_DATABASE_URL: pg }),
      loadConfig({ db: pg }, {}),
      loadConfig({}, { MAILGATE_DB: pg }),
      loadConfig({ config: file }, {}),
    ]) {
      expect(loaded.database).toMatchObject({ kind: 'postgres', url: pg, display: 'postgres://mg:***@db.example.com/mailgate' });
      expect(loaded.databasePath).toBeUndefined();
      expect(leaks(databaseDisplay(loaded.database))).toBe(false);
    }
  });

  const refused = (flags: { db?: string; config?: string }, env: NodeJS.ProcessEnv): MailgateError => {
    try {
      loadConfig(flags, env);
    } catch (err) {
      return err as MailgateError;
    }
    throw new Error('expected the configuration to be refused');
  };

  it('refuses an unsupported URL from each source, naming it', () => {
    const bad = `mysql://mg:${PW}@db/mailgate`;
    const file = writeConfig(tmp.file('mysql.json'), { database: bad });
    for (const [flags, env, source] of [
      [{}, { MAILGATE_DATABASE_URL: bad }, 'MAILGATE_DATABASE_URL: '],
      [{ db: bad }, {}, '--db: '],
      [{}, { MAILGATE_DB: bad }, 'MAILGATE_DB: '],
      [{ config: file }, {}, `database in ${file}: `],
    ] as const) {
      const err = refused(flags, env);
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.message).toContain(`${source}a mysql: URL is not supported`);
      expect(leaks(err.message)).toBe(false);
      expect(leaks(JSON.stringify(err.details))).toBe(false);
    }
  });

  it('reports a refused value even where another source overrides it, with the other problems at once', () => {
    const file = writeConfig(tmp.file('two.json'), {
      database: `mysql://mg:${PW}@db/x`,
      mailboxes: [{ address: 'a@example.test' }, { address: 'a@example.test' }],
    });
    const err = refused({ config: file, db: `http://mg:${PW}@h/` }, { MAILGATE_DATABASE_URL: '/srv/ok.db', MAILGATE_DB: '' });
    expect(err.details.problems).toEqual([
      expect.stringContaining('is listed twice'),
      expect.stringMatching(/^database in .*two\.json: a mysql: URL is not supported/),
      expect.stringMatching(/^--db: a http: URL is not supported/),
      expect.stringMatching(/^MAILGATE_DB: is empty/),
    ]);
    expect(leaks(err.message)).toBe(false);
  });

  it('refuses an empty MAILGATE_DATABASE_URL rather than falling back to another database', () => {
    expect(refused({ db: '/srv/flag.db' }, { MAILGATE_DATABASE_URL: '' }).message).toMatch(/MAILGATE_DATABASE_URL: is empty/);
  });
});

describe('databaseFlags: the --db of the commands a person is told to run', () => {
  it('names a SQLite file by its absolute path, and a PostgreSQL URL only when it holds no password', () => {
    expect(databaseFlags({ kind: 'sqlite', path: '/srv/m.db' })).toEqual(['--db', '/srv/m.db']);
    expect(databaseFlags({ kind: 'sqlite', path: 'm.db' })).toEqual(['--db', join(process.cwd(), 'm.db')]);
    expect(databaseFlags(parseDatabaseLocation('postgres://mg@db/mailgate', '--db'))).toEqual(['--db', 'postgres://mg@db/mailgate']);
    expect(databaseFlags(parseDatabaseLocation(`postgres://mg:${PW}@db/mailgate`, '--db'))).toEqual([]);
    expect(databaseFlags(parseDatabaseLocation(`postgres://mg@db/mailgate?password=${PW}`, '--db'))).toEqual([]);
  });
});

describe('the mailgate command with a refused database', () => {
  const cli = new URL('../../dist/bundle/mailgate.js', import.meta.url).pathname;

  /** Runs the built CLI in an empty directory with an empty HOME, so anything it creates would show there. */
  function run(name: string, args: string[], env: Record<string, string> = {}) {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run 'npm run build' (or 'npm test', which builds) first`);
    const dir = tmp.file(name);
    mkdirSync(join(dir, 'home'), { recursive: true });
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MAILGATE_')));
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, env: { ...clean, HOME: join(dir, 'home'), ...env }, encoding: 'utf8' });
    return { ...r, created: readdirSync(dir, { recursive: true }).filter((f) => f !== 'home' && f !== 'mailgate.json') };
  }

  it('exits 2 naming the source, never the password, and creates no file or directory', () => {
    const cases: [string, string[], Record<string, string>, string][] = [
      ['flag', ['pending', '--db', `mysql://mg:${PW}@db/mailgate`], {}, '--db: a mysql: URL is not supported'],
      ['env-url', ['mailbox', 'list'], { MAILGATE_DATABASE_URL: `jdbc:postgresql://mg:${PW}@db/mailgate` }, 'MAILGATE_DATABASE_URL: a jdbc: URL'],
      ['env-db', ['pending'], { MAILGATE_DB: `postgres://mg:${PW}@db:bad/mailgate` }, "MAILGATE_DB: the postgres:// URL's port"],
      ['schemeless', ['pending', '--db', `mg:${PW}@db/mailgate`], {}, '--db: looks like a URL without its scheme'],
    ];
    for (const [name, args, env, message] of cases) {
      const r = run(name, args, env);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toContain(`mailgate: CONFIG_INVALID: invalid configuration:\n  - ${message}`);
      expect(leaks(r.stderr + r.stdout)).toBe(false);
      expect(r.created).toEqual([]);
      expect(readdirSync(join(tmp.file(name), 'home'))).toEqual([]);
    }
  });

  it('refuses a config file database the same way', () => {
    mkdirSync(tmp.file('file'));
    writeConfig(join(tmp.file('file'), 'mailgate.json'), { database: `http://mg:${PW}@db.example.com/` });
    const r = run('file', ['pending', '--config', 'mailgate.json']);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/database in mailgate\.json: a http: URL is not supported/);
    expect(leaks(r.stderr)).toBe(false);
    expect(r.created).toEqual([]);
  });
});
