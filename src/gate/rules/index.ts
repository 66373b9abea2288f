/**
 * Auto-approve rules (MCPMail's `approval_mode: smart` vocabulary). Ordered; the first match wins.
 * One rule per file; this file holds the schema and the dispatch.
 */
import * as z from 'zod';
import type { Action, Facts } from '../types.js';
import { matchAll } from './all.js';
import { matchContactList } from './contact-list.js';
import { matchDomain } from './domain.js';
import { matchKnownContact } from './known-contact.js';
import { matchReply } from './reply.js';
import { matchSubject } from './subject.js';

const glob = (what: string) =>
  z
    .string()
    .trim()
    .min(1, { error: `${what} glob is empty` })
    .max(256, { error: `${what} glob is longer than 256 characters` });

export const AutoApproveRule = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('reply') }).strict(),
    z.object({ type: z.literal('domain'), match: glob('domain').transform((s) => s.toLowerCase()) }).strict(),
    z.object({ type: z.literal('contact_list'), list: z.string().trim().min(1).max(100) }).strict(),
    z.object({ type: z.literal('subject'), match: glob('subject') }).strict(),
    z.object({ type: z.literal('known_contact') }).strict(),
    z.object({ type: z.literal('all') }).strict(),
  ],
  { error: "rule type must be one of 'reply', 'domain', 'contact_list', 'subject', 'known_contact', 'all'" },
);
export type AutoApproveRule = z.infer<typeof AutoApproveRule>;
export const AutoApproveRules = z.array(AutoApproveRule).max(100);

export function ruleMatches(rule: AutoApproveRule, action: Extract<Action, { kind: 'send' }>, facts: Facts): boolean {
  switch (rule.type) {
    case 'reply':
      return matchReply(rule, action, facts);
    case 'domain':
      return matchDomain(rule, action, facts);
    case 'contact_list':
      return matchContactList(rule, action, facts);
    case 'subject':
      return matchSubject(rule, action, facts);
    case 'known_contact':
      return matchKnownContact(rule, action, facts);
    case 'all':
      return matchAll(rule, action, facts);
  }
}

/** A short label for audit and results: `domain:*.acme.com`. */
export function describeRule(rule: AutoApproveRule): string {
  switch (rule.type) {
    case 'domain':
    case 'subject':
      return `${rule.type}:${rule.match}`;
    case 'contact_list':
      return `contact_list:${rule.list}`;
    default:
      return rule.type;
  }
}
