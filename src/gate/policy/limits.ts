import type { PolicyHit, PolicyRule } from './types.js';

const mb = (n: number) => (n < 1024 ? `${n} bytes` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`);

export const maxRecipients: PolicyRule = (p, draft) =>
  draft.recipients.length <= p.maxRecipients
    ? []
    : [
        {
          rule: 'max_recipients',
          code: 'too_many_recipients',
          effect: 'block',
          reason: `${draft.recipients.length} recipients is more than this mailbox allows (${p.maxRecipients}); send to fewer people`,
          details: { recipients: draft.recipients.length, limit: p.maxRecipients },
        },
      ];

export const attachmentLimits: PolicyRule = (p, draft) => {
  const hits: PolicyHit[] = [];
  const a = draft.attachments;
  if (a.length > p.maxAttachments) {
    hits.push({
      rule: 'max_attachments',
      code: 'attachment_limit',
      effect: 'block',
      reason: `${a.length} attachments is more than allowed (${p.maxAttachments}); attach fewer files`,
      details: { attachments: a.length, limit: p.maxAttachments },
    });
  }
  const big = a.filter((x) => x.size > p.maxAttachmentBytes);
  if (big.length > 0) {
    hits.push({
      rule: 'max_attachment_bytes',
      code: 'attachment_limit',
      effect: 'block',
      reason: `${big.map((x) => `${x.filename} (${mb(x.size)})`).join(', ')} ${big.length === 1 ? 'is' : 'are'} larger than ${mb(p.maxAttachmentBytes)} per file`,
      details: { files: big.map((x) => x.filename), limit: p.maxAttachmentBytes },
    });
  }
  const total = a.reduce((s, x) => s + x.size, 0);
  if (total > p.maxTotalAttachmentBytes) {
    hits.push({
      rule: 'max_total_attachment_bytes',
      code: 'attachment_limit',
      effect: 'block',
      reason: `attachments total ${mb(total)}, more than ${mb(p.maxTotalAttachmentBytes)}; send fewer or smaller files`,
      details: { total, limit: p.maxTotalAttachmentBytes },
    });
  }
  return hits;
};
