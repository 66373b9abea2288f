import type { PolicyRule } from './types.js';

/** An identical draft (same recipients, subject, body, attachments) within the window: an agent in a loop. */
export const duplicate: PolicyRule = (p, _draft, f) => {
  if (p.dedupeWindowSeconds === 0 || !f.duplicateOf) return [];
  const d = f.duplicateOf;
  return [
    {
      rule: 'dedupe_window',
      code: 'duplicate',
      effect: 'block',
      reason:
        `an identical message (${d.message_id}, ${d.status}) was drafted ${Math.round((f.now - d.created_at) / 1000)}s ago; ` +
        'do not send it again (use get_message or mail_wait to follow the first one), or change the content if this is a new message',
      details: { duplicate_of: d.message_id, window_seconds: p.dedupeWindowSeconds },
    },
  ];
};
