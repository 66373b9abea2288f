/**
 * The configuration file's one schema. Every key is documented in README.md ("Configuration"); unknown
 * keys are refused so a typo cannot silently leave a mailbox ungated.
 */
import * as z from 'zod';
import { parseSuppressionEntry } from '../gate/canonical.js';
import { PolicySettings } from '../gate/policy/settings.js';
import { AutoApproveRules } from '../gate/rules/index.js';
import { OAuth2Settings } from '../mail/oauth2/settings.js';
import { Duration, EmailAddress, headerText, MailboxMetadata, OversightMode, pendingTtlProblem } from '../values.js';
import { WebhookConfig } from '../webhooks/schema.js';

/**
 * IMAP or SMTP account settings. Exactly one secret source: a password inline (discouraged), an
 * environment variable, a file, or an OAuth2 access token in an environment variable (XOAUTH2, for Gmail
 * and Microsoft 365). Secrets are resolved at start and never logged, audited or returned.
 */
const serverFields = (kind: 'imap' | 'smtp') => ({
  host: z
    .string()
    .trim()
    .min(1, { error: `${kind}.host is empty` }),
  port: z.number().int().min(1).max(65535).optional(),
  secure: z.boolean().optional().describe('TLS from the first byte (993 / 465); default true on those ports'),
  starttls: z.boolean().optional().describe('require STARTTLS on a plain port'),
  user: z.string().min(1, { error: `${kind}.user is empty` }),
  password: z.string().min(1).optional(),
  password_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'password_env must be an environment variable name' })
    .optional(),
  password_file: z.string().min(1).optional(),
  access_token_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'access_token_env must be an environment variable name' })
    .optional(),
  /** Refresh-token OAuth2 (Gmail, Microsoft 365): access tokens are fetched and renewed by mailgate. */
  oauth2: OAuth2Settings.optional(),
  tls: z
    .object({ reject_unauthorized: z.boolean().default(true), ca_file: z.string().min(1).optional() })
    .strict()
    .optional(),
});

type SecretSources = {
  password?: string | undefined;
  password_env?: string | undefined;
  password_file?: string | undefined;
  access_token_env?: string | undefined;
  oauth2?: unknown;
};
const oneSecret = (kind: string) =>
  [
    (s: SecretSources) => [s.password, s.password_env, s.password_file, s.access_token_env, s.oauth2].filter((v) => v !== undefined).length === 1,
    { error: `${kind}: give exactly one of password, password_env, password_file, access_token_env or oauth2` },
  ] as const;

export const ImapSettings = z
  .object({
    ...serverFields('imap'),
    save_sent: z.boolean().default(true).describe('append a copy of each sent message to the Sent folder'),
    heartbeat_seconds: z.number().min(1).max(3600).default(60).describe('how often the IDLE connection is checked with NOOP'),
  })
  .strict()
  .refine(...oneSecret('imap'));
export const SmtpSettings = z
  .object({ ...serverFields('smtp'), timeout_seconds: z.number().min(1).max(600).default(60).describe('connection, greeting and socket timeout') })
  .strict()
  .refine(...oneSecret('smtp'));
export type ImapSettings = z.infer<typeof ImapSettings>;
export type SmtpSettings = z.infer<typeof SmtpSettings>;

export const MailboxConfig = z
  .object({
    address: EmailAddress,
    display_name: headerText('display_name', 200).optional(),
    oversight_mode: OversightMode.optional(),
    autonomy_level: z.union([z.literal(1), z.literal(2), z.literal(3)], { error: 'autonomy_level must be 1, 2 or 3' }).optional(),
    approval_mode: z.enum(['all', 'smart', 'none'], { error: "approval_mode must be 'all', 'smart' or 'none'" }).optional(),
    auto_approve_rules: AutoApproveRules.optional(),
    pending_ttl: Duration.optional(),
    /** This mailbox's policy settings, over the global `policy` (see README "Policy"). */
    /** Labels for other systems (values.ts MailboxMetadata), shown by list_mailboxes; the gate never reads them. */
    metadata: MailboxMetadata.optional(),
    policy: PolicySettings.optional(),
    imap: ImapSettings.optional(),
    smtp: SmtpSettings.optional(),
  })
  .strict();
export type MailboxConfig = z.infer<typeof MailboxConfig>;

export const Config = z
  .object({
    $schema: z.string().optional(),
    database: z
      .string()
      .min(1)
      .optional()
      .describe('SQLite file path (relative to the config file) or postgres:// / postgresql:// URL; MAILGATE_DATABASE_URL overrides it'),
    require_approval: z.boolean().default(false),
    tool_names: z.enum(['snake_case', 'dotted'], { error: "tool_names must be 'snake_case' (default) or 'dotted'" }).default('snake_case'),
    /** Whether reply_email quotes the original under the reply's text when the call does not say (README "Tools"). */
    reply_quote: z.enum(['quote', 'none'], { error: "reply_quote must be 'quote' (default) or 'none'" }).default('quote'),
    contact_lists: z.record(z.string().min(1).max(100), z.array(EmailAddress).max(10_000)).default({}),
    /** `hashed` keeps addresses, subjects and bodies out of the audit chain as salted hashes (erasable). */
    audit_personal_data: z.enum(['inline', 'hashed'], { error: "audit_personal_data must be 'inline' or 'hashed'" }).default('inline'),
    /** Policy for every mailbox (a mailbox's own `policy` keys override these). */
    policy: PolicySettings.default({}),
    /** Addresses (`name@example.com`) and domains (`example.com`, subdomains included) never to be mailed. */
    suppress: z
      .array(
        z
          .string()
          .trim()
          .min(1)
          .max(254)
          .refine((e) => parseSuppressionEntry(e) !== null, { error: "not an address or a domain; use 'name@example.com' or 'example.com'" }),
      )
      .max(100_000)
      .default([]),
    mailboxes: z.array(MailboxConfig).max(1000).default([]),
    /** Approvals only a person can give (README): which client channels count as the person confirming. */
    approvals: z
      .object({
        // Form elicitation cannot tell a person from a client that answers forms by itself, so it is off unless asked for.
        confirm_with: z
          .array(z.enum(['url', 'form'], { error: "approvals.confirm_with lists 'url' and/or 'form'" }))
          .max(2)
          .refine((l) => new Set(l).size === l.length, { error: 'approvals.confirm_with lists a channel twice' })
          .default(['url']),
      })
      .strict()
      .default({ confirm_with: ['url'] }),
    /** Endpoints that receive signed events (README "Webhooks"); src/webhooks/schema.ts. */
    webhooks: z.array(WebhookConfig).max(100).default([]),
    /** Settings meant for test suites only (README "Configuration"); never set them in production. */
    testing: z
      .object({
        allow_short_ttl: z.boolean().default(false).describe('allow a pending_ttl under 1h, so a test can watch held mail expire'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    // Needs `testing` beside the mailboxes, so it is checked here rather than on each entry.
    c.mailboxes.forEach((mb, i) => {
      const problem = mb.pending_ttl === undefined ? null : pendingTtlProblem(mb.pending_ttl, c.testing.allow_short_ttl);
      if (problem) ctx.addIssue({ code: 'custom', path: ['mailboxes', i, 'pending_ttl'], message: `pending_ttl ${problem}` });
    });
  });
export type Config = z.infer<typeof Config>;

/** The documented default when no config is given: a sandbox pair, so `mailgate` works on a fresh machine. */
export const DEFAULT_CONFIG_INPUT = {
  mailboxes: [
    { address: 'agent@mailgate.test', display_name: 'Agent (sandbox)', oversight_mode: 'gated_send' },
    { address: 'you@mailgate.test', display_name: 'You (sandbox)', oversight_mode: 'autonomous' },
  ],
} as const;
