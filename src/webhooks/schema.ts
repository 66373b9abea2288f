/**
 * The shape of a webhook endpoint, as the config file (`webhooks: [...]`) and `mailgate webhook add` give it.
 * One schema for both, so an endpoint the CLI accepts is one the config would accept too.
 */
import * as z from 'zod';
import { EmailAddress } from '../values.js';
import { checkHost, refusal } from './address.js';
import { SUBSCRIBABLE_EVENT_TYPES } from './events.js';
import { secretProblem } from './sign.js';

const WebhookEventType = z.enum(SUBSCRIBABLE_EVENT_TYPES, { error: `unknown event; use one of ${SUBSCRIBABLE_EVENT_TYPES.join(', ')}` });

/**
 * http(s) only. Where the host may point is checked with the endpoint's allow_private_network (WebhookConfig
 * below, and again on the resolved address at delivery). Credentials in the URL are refused: the signature is
 * the authentication, and a URL is shown in listings and the audit log.
 */
const WebhookUrl = z
  .string()
  .trim()
  .superRefine((v, ctx) => {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not a URL; give an absolute http(s) URL such as https://hooks.example.com/mailgate' });
      return;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      ctx.addIssue({ code: 'custom', message: `the URL must be http or https, not ${url.protocol.replace(':', '')}` });
    else if (url.username || url.password)
      ctx.addIssue({ code: 'custom', message: 'remove the user name and password from the URL; receivers authenticate deliveries by their signature' });
  });

/** One secret, or (while rotating) up to three: each delivery is signed with all of them, newest first. */
const WebhookSecrets = z
  .union([z.string(), z.array(z.string()).min(1).max(3)], { error: "secret must be a 'whsec_...' string, or a list of up to 3 while rotating" })
  .transform((v, ctx) => {
    const list = Array.isArray(v) ? v : [v];
    list.forEach((s, i) => {
      const problem = secretProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: Array.isArray(v) ? [i] : [] });
    });
    return list;
  });

export const WebhookConfig = z
  .object({
    url: WebhookUrl,
    secret: WebhookSecrets,
    /** Event types to send; omitted means all of them. */
    events: z.array(WebhookEventType).min(1, { error: 'events is empty; list event types, or leave events out for all' }).optional(),
    /** Only events of this mailbox; omitted means every mailbox. */
    mailbox: EmailAddress.optional(),
    /** Lets the URL point at loopback, private, link-local or unique-local addresses (a receiver beside mailgate). */
    allow_private_network: z.boolean({ error: 'allow_private_network must be true or false' }).optional(),
  })
  .strict()
  .superRefine((w, ctx) => {
    const problem = urlHostProblem(w.url, w.allow_private_network === true);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['url'] });
  });
export type WebhookConfig = z.infer<typeof WebhookConfig>;

/**
 * Why mailgate will not POST to this URL's host, or null. The host is the WHATWG parser's, so every spelling
 * of an IPv4 address (decimal, hex, octal, shortened) is judged as the address it is.
 */
function urlHostProblem(url: string, allowPrivate: boolean): string | null {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return null; // WebhookUrl reports it
  }
  const why = refusal(checkHost(host), allowPrivate);
  return why && `the URL points at ${why}`;
}

/** Checks that need the rest of the config: a filter names a configured mailbox; no endpoint is listed twice. */
export function webhookConfigProblems(config: { webhooks: readonly WebhookConfig[]; mailboxes: readonly { address: string }[] }): string[] {
  const problems: string[] = [];
  const addresses = config.mailboxes.map((m) => m.address);
  const seen = new Set<string>();
  for (const [i, w] of config.webhooks.entries()) {
    if (w.mailbox !== undefined && !addresses.includes(w.mailbox)) {
      problems.push(
        `webhooks[${i}].mailbox: ${w.mailbox} is not a mailbox in this config; use one of ${addresses.join(', ') || '(none)'} or leave mailbox out for all`,
      );
    }
    const key = `${w.url} ${w.mailbox ?? '*'}`;
    if (seen.has(key)) problems.push(`webhooks[${i}]: ${w.url} is listed twice for the same mailbox; keep one entry (events takes a list)`);
    seen.add(key);
  }
  return problems;
}

/** A URL for listings, logs and the audit log: scheme, host and path; a query string (it may hold a token) is elided. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(invalid URL)';
  }
}
