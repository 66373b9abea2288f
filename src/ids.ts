/** Random identifiers. Ids are unguessable so one agent cannot enumerate another's messages. */
import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomToken(length = 20): string {
  const bytes = randomBytes(length);
  let out = '';
  // 248 = 4 * 62: rejecting larger bytes keeps every character equally likely.
  for (let i = 0; out.length < length; i++) {
    if (i >= bytes.length) return out + randomToken(length - out.length);
    const b = bytes[i]!;
    if (b < 248) out += ALPHABET[b % 62];
  }
  return out;
}

export const newMessageId = () => `msg_${randomToken(20)}`;
export const newActionId = () => `act_${randomToken(20)}`;
export const newEmailId = () => `em_${randomToken(20)}`;
export const newEventId = () => `evt_${randomToken(20)}`;
export const newTokenId = () => `tok_${randomToken(20)}`;
export const newApprovalLinkId = () => `lnk_${randomToken(20)}`;
export const newWebhookEndpointId = () => `wh_${randomToken(20)}`;

/** An RFC 5322 msg-id, generated once when a message is created and reused on every delivery attempt. */
export function newMessageIdHeader(fromAddress: string): string {
  const domain = fromAddress.slice(fromAddress.lastIndexOf('@') + 1) || 'mailgate.invalid';
  return `<${randomToken(24)}@${domain}>`;
}
