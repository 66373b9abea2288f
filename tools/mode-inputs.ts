/** The mode fields create_mailbox and update_mailbox share: one vocabulary or an alias, plus rules. */
import * as z from 'zod';
import { PolicySettings } from '../src/gate/policy/settings.js';
import { AutoApproveRules } from '../src/gate/rules/index.js';
import { Duration, MailboxMetadata, OversightMode } from '../src/values.js';

export const modeFields = {
  oversight_mode: OversightMode.optional().describe('read_only, gated_all, gated_send, monitored or autonomous'),
  autonomy_level: z
    .union([z.literal(1), z.literal(2), z.literal(3)])
    .optional()
    .describe('Alias: 1 every send held, 2 first contact held, 3 autonomous'),
  approval_mode: z.enum(['all', 'smart', 'none']).optional().describe('Alias: all held, smart uses auto_approve_rules, none autonomous'),
  auto_approve_rules: AutoApproveRules.optional().describe('Ordered rules, first match auto-approves a send in a gated mode'),
  pending_ttl: Duration.optional().describe("How long held mail waits before expiring, 1h to 30d, e.g. '72h', '7d'"),
  policy: PolicySettings.optional().describe(
    'The mailbox policy (replaces its own settings): dedupe_window, rate_limits, allowed_domains, blocked_domains, max_recipients, attachment limits, content_holds, four_eyes, gdpr_article22_scope, allow_permanent_delete',
  ),
  metadata: MailboxMetadata.optional().describe('Labels for other systems (replaces them), e.g. {"team": "billing"}; the gate never reads them'),
};
