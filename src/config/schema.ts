/**
 * The configuration file's one schema. Every key is documented in README.md ("Configuration"); unknown
 * keys are refused so a typo cannot silently leave a mailbox ungated.
 */
import * as z from 'zod';
import { AutoApproveRules } from '../gate/rules/index.js';
import { Duration, EmailAddress, OversightMode, headerText } from '../values.js';

const ServerSettings = z.object({}).passthrough();

export const MailboxConfig = z
  .object({
    address: EmailAddress,
    display_name: headerText('display_name', 200).optional(),
    oversight_mode: OversightMode.optional(),
    autonomy_level: z.union([z.literal(1), z.literal(2), z.literal(3)], { error: 'autonomy_level must be 1, 2 or 3' }).optional(),
    approval_mode: z.enum(['all', 'smart', 'none'], { error: "approval_mode must be 'all', 'smart' or 'none'" }).optional(),
    auto_approve_rules: AutoApproveRules.optional(),
    pending_ttl: Duration.optional(),
    imap: ServerSettings.optional(),
    smtp: ServerSettings.optional(),
  })
  .strict();
export type MailboxConfig = z.infer<typeof MailboxConfig>;

export const Config = z
  .object({
    $schema: z.string().optional(),
    database: z.string().min(1).optional(),
    require_approval: z.boolean().default(false),
    tool_names: z.enum(['snake_case', 'dotted'], { error: "tool_names must be 'snake_case' (default) or 'dotted'" }).default('snake_case'),
    contact_lists: z.record(z.string().min(1).max(100), z.array(EmailAddress).max(10_000)).default({}),
    mailboxes: z.array(MailboxConfig).max(1000).default([]),
  })
  .strict();
export type Config = z.infer<typeof Config>;

/** The documented default when no config is given: a sandbox pair, so `mailgate` works on a fresh machine. */
export const DEFAULT_CONFIG_INPUT = {
  mailboxes: [
    { address: 'agent@mailgate.test', display_name: 'Agent (sandbox)', oversight_mode: 'gated_send' },
    { address: 'you@mailgate.test', display_name: 'You (sandbox)', oversight_mode: 'autonomous' },
  ],
} as const;
