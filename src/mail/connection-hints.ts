/**
 * Turns a failed IMAP or SMTP connection into the one change that fixes it. Raw failures ("wrong version
 * number", a hang then a timeout, "502 5.5.1 command not implemented") name the symptom, not the setting at
 * fault (issue 12). Pure, so `mailgate doctor`, the SMTP classifier and the IMAP connection can share it.
 */

/** The account settings a hint names. Never the secret itself: only where it comes from. */
export interface HintContext {
  protocol: 'imap' | 'smtp';
  host: string;
  port: number;
  secure: boolean;
  starttls: boolean;
  /** Where the password comes from, e.g. "the password variable IMAP_PASS" or "the password file /run/x". */
  secret: string;
  /** The config key of these settings, e.g. "mailboxes[0].imap". */
  key: string;
}

/** Set by a probe that found TLS on a port it had been told speaks plain text (the greeting never came). */
export const EXPECTS_TLS = 'EXPECTS_TLS';

/** Node's and OpenSSL's codes for a certificate the client could not chain to a trusted CA. */
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

const IMPLICIT_TLS_PORTS: Readonly<Record<string, number>> = { imap: 993, smtp: 465 };
const STARTTLS_PORTS: Readonly<Record<string, number>> = { imap: 143, smtp: 587 };

interface FailureShape {
  code?: string;
  originalCode?: string;
  message?: string;
  response?: string;
  responseCode?: number;
  authenticationFailed?: boolean;
  tlsFailed?: boolean;
  command?: string;
}

/** One line saying what is wrong and which setting fixes it; undefined when the failure is not recognised. */
export function connectionHint(err: unknown, c: HintContext): string | undefined {
  const e = (err ?? {}) as FailureShape;
  const codes = [e.code, e.originalCode].filter((x): x is string => typeof x === 'string');
  const text = `${e.message ?? ''} ${e.response ?? ''}`;
  const at = `${c.host}:${c.port}`;
  if (codes.includes(EXPECTS_TLS)) {
    return `port ${c.port} expects TLS from the first byte: set \`${c.key}.secure: true\``;
  }
  if (codes.includes('ECONNREFUSED')) return `connection refused: nothing listens on ${at}; check \`${c.key}.host\` and \`${c.key}.port\``;
  if (codes.includes('ENOTFOUND') || codes.includes('EAI_AGAIN')) return `the host name ${c.host} does not resolve: check \`${c.key}.host\``;
  if (codes.includes('EHOSTUNREACH') || codes.includes('ENETUNREACH')) return `no route to ${at}: check \`${c.key}.host\` and the network`;
  if (codes.some((x) => UNTRUSTED.has(x))) {
    return `the server's certificate is self-signed (or from an unknown CA): set \`${c.key}.tls.ca_file\` to its CA certificate (PEM)`;
  }
  if (codes.includes('CERT_HAS_EXPIRED')) return `the server's certificate has expired: the server's operator must renew it`;
  if (codes.includes('ERR_TLS_CERT_ALTNAME_INVALID') || codes.includes('HOSTNAME_MISMATCH')) {
    return `the server's certificate is not for ${c.host}: set \`${c.key}.host\` to a name the certificate lists`;
  }
  if (codes.includes('ERR_SSL_WRONG_VERSION_NUMBER') || /wrong version number|packet length too long|unknown protocol/i.test(text)) {
    const upgrade = c.port === STARTTLS_PORTS[c.protocol] ? ' and `starttls: true`' : '';
    return `wrong version number: port ${c.port} speaks plain text, not TLS: set \`${c.key}.secure: false\`${upgrade}`;
  }
  if (c.starttls && !c.secure && (/STARTTLS/i.test(text) || e.tlsFailed === true || (codes.includes('ETLS') && e.command === 'STARTTLS'))) {
    const tls = IMPLICIT_TLS_PORTS[c.protocol];
    return `the server offers no STARTTLS on ${c.port}: use its TLS port (usually ${tls}) with \`secure: true\`, or ask its operator to enable STARTTLS`;
  }
  if (e.authenticationFailed === true || codes.includes('EAUTH') || [535, 534, 538].includes(e.responseCode ?? 0)) {
    return `authentication failed: check ${c.secret} and \`${c.key}.user\``;
  }
  if (codes.some((x) => /TIMEOUT|ETIMEDOUT/.test(x)) || /timed? ?out|no answer/i.test(text)) {
    const tls = c.secure ? '' : ` (on a TLS-only port, set \`${c.key}.secure: true\`)`;
    return `no answer from ${at} in time: a firewall drops the traffic, or it is not a ${c.protocol.toUpperCase()} port${tls}`;
  }
  if (codes.includes('ECONNRESET') || codes.includes('EPIPE')) return `${at} closed the connection at once: check the port and \`${c.key}.secure\``;
  return undefined;
}

/**
 * The hint for a connection made at run time (a tool call, a delivery), where the mailbox's index in the
 * config is not known: keys are named relative to the mailbox's entry (`imap.secure`).
 */
export function runtimeHint(
  err: unknown,
  protocol: 'imap' | 'smtp',
  a: { host: string; port: number; secure: boolean; requireStartTls: boolean },
): string | undefined {
  const secret = `the ${protocol} password (password, password_env or password_file)`;
  return connectionHint(err, { protocol, host: a.host, port: a.port, secure: a.secure, starttls: a.requireStartTls, key: protocol, secret });
}
