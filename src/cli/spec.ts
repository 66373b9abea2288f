/**
 * Every command, its arguments and its options, as data: src/cli/program.ts turns this into the parser (with
 * per-command `--help` and "did you mean" for typos), and nothing else lists them, so the help cannot drift
 * from what is accepted. A flag a command does not list is refused before anything opens a database.
 */

/** `[flags, description]` as commander takes them: `--note <text>` takes a value, `--json` is a switch. */
export type OptionSpec = readonly [flags: string, description: string];

export interface CommandSpec {
  /** `approve`, or `mailbox create` for a subcommand. */
  path: string;
  /** Positional arguments: `<id>` required, `[id]` optional. */
  args?: readonly string[];
  summary: string;
  /** More text for this command's --help. */
  details?: string;
  options?: readonly OptionSpec[];
  /** Options that may be given more than once (values collected in order); every other one at most once. */
  repeatable?: readonly string[];
}

/** A command with subcommands; `fallback` runs when none is given (`mailgate mailbox` lists them). */
export interface GroupSpec {
  name: string;
  summary: string;
  fallback?: string;
}

/** Every command takes these; they may stand before or after the command's name. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  ['--config <file>', 'the config file (or MAILGATE_CONFIG)'],
  ['--db <file|url>', 'a SQLite file or postgres:// URL (or MAILGATE_DB; MAILGATE_DATABASE_URL overrides both)'],
  ['--json', 'print JSON instead of a table'],
  ['--as <name>', 'who you are in the audit log (default: your OS user name)'],
  ['--log-format <format>', 'logs on stderr: pretty (human lines), json (one object per line) or auto (pretty on a terminal)'],
];

const MODE: readonly OptionSpec[] = [
  ['--mode <mode>', 'oversight mode: read_only, gated_all, gated_send, monitored or autonomous'],
  ['--autonomy-level <n>', "MCPMail's levels instead of --mode: 1, 2 or 3"],
  ['--approval-mode <mode>', "Molted's spelling instead of --mode: all, smart or none"],
  ['--rules <json>', 'auto-approve rules, e.g. \'[{"type":"reply"}]\''],
  ['--policy <json>', "the mailbox's policy settings (replaces them)"],
  ['--ttl <duration>', 'how long held mail waits for a decision, e.g. 72h'],
  ['--display-name <name>', 'the From display name'],
  ['--metadata <key=value>', 'a label for other systems, e.g. team=billing (repeat for more; replaces the labels)'],
];

export const GROUPS: readonly GroupSpec[] = [
  { name: 'mailbox', summary: 'list, create, update or resume mailboxes', fallback: 'list' },
  { name: 'audit', summary: 'show, verify or export the audit log', fallback: 'show' },
  { name: 'policy', summary: 'try a draft against the policy' },
  { name: 'suppress', summary: 'addresses and domains never to mail' },
  { name: 'token', summary: 'bearer tokens for agents, reviewers and operators', fallback: 'list' },
  { name: 'webhook', summary: 'signed event notifications to other systems', fallback: 'list' },
  { name: 'db', summary: 'the database itself: status, migrate, copy', fallback: 'status' },
  { name: 'oauth', summary: 'OAuth2 sign-in for Gmail and Microsoft 365' },
];

export const COMMANDS: readonly CommandSpec[] = [
  {
    path: 'serve',
    summary: 'the MCP server: stdio by default, or HTTP with --http',
    details:
      "Over stdio the session has the roles --role names (default agent), or with MAILGATE_TOKEN set the token's\n" +
      'principal, roles and mailboxes; --mailbox narrows it. --dashboard also serves the review dashboard on\n' +
      '127.0.0.1. Over HTTP (Streamable HTTP at /mcp, legacy SSE at /sse) every request needs a bearer token.',
    options: [
      ['--role <roles>', 'stdio: agent, reviewer, operator, or a comma list such as agent,reviewer'],
      ['--mailbox <address>', 'stdio: only this mailbox (repeat for more)'],
      ['--dashboard', 'stdio: also serve the review dashboard on 127.0.0.1'],
      ['--port <n>', 'the dashboard port (stdio) or the HTTP port (--http, default 7464)'],
      ['--http', 'serve MCP over HTTP instead of stdio'],
      ['--host <host>', 'HTTP: the address to listen on (default 127.0.0.1)'],
      ['--allow-origin <urls>', 'HTTP: browser origins allowed to call, comma-separated'],
      ['--allow-host <names>', 'HTTP: Host header names accepted besides loopback, comma-separated'],
      ['--first-run', 'HTTP: create starter tokens if there are none'],
    ],
    repeatable: ['mailbox'],
  },
  { path: 'demo', summary: 'watch a send be held, approved and delivered (throwaway sandbox)' },
  { path: 'doctor', summary: "check the config, the database and each account's IMAP and SMTP; each failure with its fix" },
  {
    path: 'init',
    summary: 'add a real mailbox to the config: provider presets, a connection test, the client snippet',
    details: 'Asks its questions on a terminal; with --yes, takes every answer from the flags and asks nothing.',
    options: [
      ['--yes', 'ask nothing: take every answer from the flags'],
      ['--address <address>', 'the mailbox address'],
      ['--provider <name>', 'gmail, outlook, fastmail, icloud, yahoo or generic'],
      ['--user <login>', 'the IMAP/SMTP login (default: the address)'],
      ['--password-env <var>', 'the environment variable that will hold the password'],
      ['--password-file <file>', 'a file holding the password'],
      ['--client-id <id>', "OAuth2 instead of a password (gmail, outlook): your app's client id"],
      ['--refresh-token-env <var>', "OAuth2: the variable that will hold the refresh token from 'mailgate oauth login'"],
      ['--client-secret-env <var>', 'OAuth2: the variable that will hold the client secret, if the app has one'],
      ['--imap-host <host>', 'the IMAP host (required for generic; overrides a preset)'],
      ['--imap-port <n>', 'the IMAP port'],
      ['--imap-tls <mode>', 'secure (TLS from the first byte), starttls or none'],
      ['--smtp-host <host>', 'the SMTP host (required for generic; overrides a preset)'],
      ['--smtp-port <n>', 'the SMTP port (alone: 465 means secure, others starttls)'],
      ['--smtp-tls <mode>', 'secure, starttls or none'],
      ['--mode <mode>', 'oversight mode (default gated_send)'],
      ['--display-name <name>', 'the From display name'],
      ['--no-test', 'do not test the connection'],
      ['--force', 'replace a mailbox with the same address'],
      ['--client <name>', 'print only the snippet for claude-desktop, claude-code, cursor or vscode'],
    ],
  },
  {
    path: 'oauth login',
    summary: 'sign in at the provider in a browser and keep the refresh token (Gmail, Microsoft 365)',
    details: 'Runs the installed-app loopback flow (RFC 8252, PKCE) on 127.0.0.1; prints the address to open and the config to paste.',
    options: [
      ['--provider <name>', 'google, microsoft or custom'],
      ['--client-id <id>', "the app's client id at the provider (required)"],
      ['--client-secret-env <var>', 'the variable holding the client secret (none for a public client)'],
      ['--auth-url <url>', 'the authorisation endpoint (custom, or to override)'],
      ['--token-url <url>', 'the token endpoint (custom, or to override)'],
      ['--tenant <tenant>', 'microsoft: tenant id or domain; default common'],
      ['--scope <scope>', 'a scope to ask for (repeat for more); default the provider IMAP/SMTP scopes'],
      ['--login-hint <address>', 'the address to sign in as'],
      ['--out <file>', 'save the refresh token here (0600) instead of printing it'],
      ['--open', 'open the address in the default browser'],
    ],
    repeatable: ['scope'],
  },
  { path: 'mailbox list', summary: 'mailboxes, their modes and delivery state' },
  {
    path: 'mailbox create',
    args: ['<address>'],
    summary: 'add a mailbox (sandbox unless the config gives its servers)',
    options: MODE,
    repeatable: ['metadata'],
  },
  {
    path: 'mailbox update',
    args: ['<address>'],
    summary: "change a mailbox's mode, rules, policy or hold time",
    options: [...MODE, ['--reason <text>', 'why (recorded in the audit log; required)']],
    repeatable: ['metadata'],
  },
  {
    path: 'mailbox resume',
    args: ['<address>'],
    summary: 'resume deliveries paused for an SMTP authentication or TLS problem',
    options: [['--reason <text>', 'why (recorded in the audit log)']],
  },
  {
    path: 'pending',
    summary: 'mail and mailbox actions held for approval',
    options: [
      ['--mailbox <address>', 'only this mailbox'],
      [
        '--status <status>',
        'pending (default), approved, queued, sent, rejected, expired, cancelled, failed, outcome_unknown, blocked or any (those newest first)',
      ],
      ['--metadata <key=value>', 'only mail whose metadata has this pair (repeat for more; 7 and true are JSON, \'"7"\' the string)'],
      ['--limit <n>', 'at most this many (default 50)'],
      ['--cursor <cursor>', 'the next page, from the previous answer'],
    ],
    repeatable: ['metadata'],
  },
  { path: 'approve', args: ['<message_id>'], summary: 'approve a held message and send it', options: [['--note <text>', 'a note kept with the decision']] },
  { path: 'reject', args: ['<message_id>'], summary: 'reject a held message; it is never sent', options: [['--reason <text>', 'why (required)']] },
  {
    path: 'resolve',
    args: ['<message_id>'],
    summary: 'settle an outcome_unknown message once you have checked whether it arrived',
    options: [
      ['--delivered', 'it arrived: mark it sent'],
      ['--not-delivered', 'it did not: mark it failed (send it again only as a new draft)'],
      ['--reason <text>', 'how you checked (required)'],
    ],
  },
  {
    path: 'audit show',
    summary: 'audit events, newest last',
    options: [
      ['--message <id>', "only this message's events"],
      ['--mailbox <address>', "only this mailbox's events"],
      ['--limit <n>', 'at most this many (default 100)'],
    ],
  },
  {
    path: 'audit verify',
    summary: 'check the hash chain and print its head hash to keep elsewhere',
    options: [['--anchor <hash>', 'a head hash from an earlier verify: check nothing before it changed']],
  },
  {
    path: 'audit export',
    summary: 'JSON Lines for auditors: chain status, then one record per message',
    options: [
      ['--mailbox <address>', 'only this mailbox'],
      ['--since <date>', 'messages created since, e.g. 2026-11-01'],
      ['--out <file>', 'write to this file instead of stdout'],
      ['--automated-decisions', 'only messages marked as automated decisions about a person (GDPR Art. 22)'],
    ],
  },
  { path: 'captured', summary: 'sandbox mail to outside addresses (captured, never sent)', options: [['--limit <n>', 'at most this many']] },
  {
    path: 'policy test',
    summary: 'which policy rules a draft would hit; nothing is recorded or sent',
    options: [
      ['--mailbox <address>', 'the sending mailbox'],
      ['--to <addresses>', 'recipients, comma-separated'],
      ['--cc <addresses>', 'Cc, comma-separated'],
      ['--bcc <addresses>', 'Bcc, comma-separated'],
      ['--subject <text>', 'the subject'],
      ['--text <text>', 'the text body'],
      ['--html <html>', 'the HTML body'],
      ['--file <file>', 'the whole draft as a JSON file instead'],
    ],
  },
  {
    path: 'suppress add',
    args: ['<entry>'],
    summary: 'never mail this address or domain',
    options: [
      ['--mailbox <address>', 'only from this mailbox (default: every mailbox)'],
      ['--reason <text>', 'why'],
    ],
  },
  {
    path: 'suppress remove',
    args: ['<entry>'],
    summary: 'take an address or domain off the list',
    options: [
      ['--mailbox <address>', 'the mailbox it was added for'],
      ['--reason <text>', 'why'],
    ],
  },
  {
    path: 'suppress list',
    summary: 'the suppression list (manual, config and hard-bounce entries)',
    options: [
      ['--mailbox <address>', 'only this mailbox'],
      ['--limit <n>', 'at most this many'],
    ],
  },
  {
    path: 'erase',
    args: ['<message_id>'],
    summary: "erase a decided message's personal data (the audit chain still verifies)",
    options: [['--reason <text>', 'why, e.g. the request reference (required)']],
  },
  {
    path: 'token create',
    summary: 'a bearer token for MAILGATE_TOKEN, printed once; only its hash is kept',
    options: [
      ['--role <roles>', 'agent, reviewer, operator, or a comma list'],
      ['--name <name>', 'a name to recognise it by'],
      ['--mailbox <address>', 'bind it to this mailbox (repeat for more)'],
      ['--all-mailboxes', 'bind it to every mailbox'],
    ],
    repeatable: ['mailbox'],
  },
  { path: 'token list', summary: 'tokens (never their secrets)' },
  { path: 'token revoke', args: ['<name>'], summary: 'revoke a token by name or tok_ id' },
  {
    path: 'webhook add',
    args: ['<url>'],
    summary: 'POST signed events to a URL',
    options: [
      ['--secret <whsec>', 'the signing secret (default: a new one, shown once)'],
      ['--events <list>', 'only these events, comma-separated'],
      ['--mailbox <address>', "only this mailbox's events"],
      ['--allow-private-network', 'allow loopback and private addresses'],
    ],
  },
  { path: 'webhook list', summary: 'endpoints with their delivery counts (never their secrets)' },
  { path: 'webhook remove', args: ['<id>'], summary: 'stop sending to an endpoint', options: [['--reason <text>', 'why']] },
  { path: 'webhook secret', summary: 'print a fresh whsec_ secret' },
  {
    path: 'db status',
    summary: 'the database (password masked), its schema version and counts; changes nothing',
    options: [['--verify', 'also check the audit chain']],
  },
  { path: 'db migrate', summary: "bring the database's schema up to this mailgate's" },
  {
    path: 'db copy',
    summary: 'copy a SQLite database into an empty PostgreSQL database and verify its audit chain there',
    options: [
      ['--from <file>', 'the SQLite file'],
      ['--to <url>', 'the postgres:// URL (default: MAILGATE_DATABASE_URL)'],
    ],
  },
];
