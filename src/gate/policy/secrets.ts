/**
 * Patterns for credentials that should never leave in an email. Each is specific (a known prefix or a PEM
 * armour line), so ordinary prose does not trip them; the generic assignment pattern needs a long random-
 * looking value. Patterns are linear (no nested quantifiers): the text is attacker-chosen.
 */
const PATTERNS: readonly (readonly [kind: string, re: RegExp])[] = [
  ['private key', /-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----/],
  ['AWS access key', /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/],
  ['GitHub token', /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/],
  ['GitLab token', /\bglpat-[A-Za-z0-9_-]{20,}\b/],
  ['Slack token', /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/],
  ['Stripe secret key', /\b[rs]k_live_[A-Za-z0-9]{20,}\b/],
  ['Anthropic API key', /\bsk-ant-[A-Za-z0-9_-]{20,}\b/],
  ['OpenAI API key', /\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}\b/],
  ['Google API key', /\bAIza[0-9A-Za-z_-]{35}\b/],
  ['JSON web token', /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b/],
  ['mailgate token', /\bmgt_[A-Za-z0-9]{32,}\b/],
  ['webhook secret', /\bwhsec_[A-Za-z0-9+/=]{24,}/],
  [
    'password or secret assignment',
    /\b(?:password|passwd|secret|api[_-]?key|access[_-]?token|client[_-]?secret)\s*[:=]\s*["']?[A-Za-z0-9+/_\-.!@#$%^&*]{12,}/i,
  ],
];

/** The kinds of secret found in the text (each kind once). The whole text is scanned: every pattern is linear. */
export function findSecrets(text: string): string[] {
  if (!text) return [];
  return PATTERNS.filter(([, re]) => re.test(text)).map(([kind]) => kind);
}
