/**
 * Numbers in mail text that look like where money goes: IBANs (ISO 13616, mod-97 check), payment card numbers
 * (ISO/IEC 7812, Luhn check), US ABA routing numbers (the ABA checksum), BIC/SWIFT codes (ISO 9362) and long
 * digit runs labelled as an account or sort code. A reviewer is shown the ones a reply adds to its thread: the
 * "our bank details have changed" fraud. The checks keep ordinary numbers (order ids, phone numbers) out.
 *
 * The text is attacker-chosen, so every pattern is linear, and it is folded first (NFKC, invisible format
 * characters removed, Unicode dashes made '-') so full-width digits or a zero-width space cannot split a number.
 */

export type AccountKind = 'iban' | 'card' | 'routing' | 'bic' | 'account';

export interface AccountNumber {
  kind: AccountKind;
  /** The normalised form: separators removed, upper case (an IBAN `DE89370400440532013000`). */
  value: string;
}

/** IBAN length by country (SWIFT IBAN registry); a country not listed must be 15-34 characters. */
const IBAN_LENGTHS: Record<string, number> = Object.fromEntries(
  (
    'AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 DO28 EE20 EG29 ES24 ' +
    'FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 ' +
    'LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 ' +
    'RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30'
  )
    .split(' ')
    .map((e) => [e.slice(0, 2), Number(e.slice(2))]),
);

// Built on first use: loading ICU's region names costs ~10 ms, which a server starting up should not pay.
let regions: Intl.DisplayNames | undefined;
/** An ISO 3166 country code (ICU names it; an unassigned code comes back unchanged). */
function isCountry(code: string): boolean {
  regions ??= new Intl.DisplayNames(['en'], { type: 'region' });
  return code !== 'ZZ' && regions.of(code) !== code;
}

/** Folds the text so one number has one spelling (see the file comment). */
function foldText(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/\p{Cf}/gu, '')
    .replace(/[\u2010-\u2015\u2212\uFE63\uFF0D]/g, '-');
}

/** Folded, every space and dash removed, upper case: a number appears here however it was grouped. */
export function squash(text: string): string {
  return foldText(text)
    .replace(/[\s-]+/g, '')
    .toUpperCase();
}

export function ibanValid(compact: string): boolean {
  const s = compact.toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(s)) return false;
  const len = IBAN_LENGTHS[s.slice(0, 2)];
  if (len !== undefined ? s.length !== len : !isCountry(s.slice(0, 2))) return false;
  let rest = 0;
  for (const ch of s.slice(4) + s.slice(0, 4)) {
    const d = ch <= '9' ? ch : String(ch.charCodeAt(0) - 55);
    for (const digit of d) rest = (rest * 10 + Number(digit)) % 97;
  }
  return rest === 1;
}

export function luhnValid(digits: string): boolean {
  if (!/^\d{13,19}$/.test(digits) || /^0+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/** ABA routing number: 9 digits, a Federal Reserve prefix (00-12, 21-32, 61-72, 80) and the 3-7-1 checksum. */
export function abaValid(digits: string): boolean {
  if (!/^\d{9}$/.test(digits) || digits === '000000000') return false;
  const p = Number(digits.slice(0, 2));
  if (!(p <= 12 || (p >= 21 && p <= 32) || (p >= 61 && p <= 72) || p === 80)) return false;
  const d = [...digits].map(Number);
  return (3 * (d[0]! + d[3]! + d[6]!) + 7 * (d[1]! + d[4]! + d[7]!) + (d[2]! + d[5]! + d[8]!)) % 10 === 0;
}

/** A BIC's shape (bank, ISO country, location, optional branch), upper case as banks print it. */
function bicShaped(code: string): boolean {
  return /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$/.test(code) && isCountry(code.slice(4, 6));
}

const IBAN_RUN = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){11,32}/g;
const DIGIT_RUN = /(?<![A-Za-z0-9])\d(?:[ -]?\d){8,18}(?!\d)/g;
const BIC_RUN = /(?<![A-Za-z0-9])[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?(?![A-Za-z0-9])/g;
/** `BIC:`, `SWIFT code`, `Swift/BIC #` right before the code. */
const BIC_LABEL = /\b(?:BIC|SWIFT)(?:[ /-]?(?:BIC|code))?\s*[:#.-]?\s*$/i;
const ACCOUNT_LABEL = /\b(?:account|acct|a\/c|sort[ -]?code|routing|aba|bsb|konto(?:nummer)?|clabe)\b[^\d\n]{0,25}(\d(?:[ -]?\d){5,33})(?!\d)/gi;

/** Blanks a found span so the later, looser patterns do not report its digits a second time. */
function blank(text: string, start: number, end: number): string {
  return text.slice(0, start) + ' '.repeat(end - start) + text.slice(end);
}

/** Where the n-th alphanumeric character of `raw` ends (raw index just past it). */
function endOfNth(raw: string, n: number): number {
  let seen = 0;
  for (let i = 0; i < raw.length; i++) if (/[A-Za-z0-9]/.test(raw[i]!) && ++seen === n) return i + 1;
  return raw.length;
}

function findIbans(text: string, out: AccountNumber[]): string {
  let masked = text;
  for (let m = IBAN_RUN.exec(text); m; m = IBAN_RUN.exec(text)) {
    const compact = m[0].replace(/[ -]/g, '').toUpperCase();
    const len = IBAN_LENGTHS[compact.slice(0, 2)] ?? compact.length;
    const end = endOfNth(m[0], len);
    // The IBAN must end where a group ends: a longer token is something else.
    if (compact.length < len || /[A-Za-z0-9]/.test(m[0][end] ?? '') || !ibanValid(compact.slice(0, len))) {
      // A mistyped IBAN of a known country is still an IBAN: its digits are not a card or a routing number.
      if (IBAN_LENGTHS[compact.slice(0, 2)] !== undefined && compact.length >= len) masked = blank(masked, m.index, m.index + end);
      IBAN_RUN.lastIndex = m.index + 1;
      continue;
    }
    out.push({ kind: 'iban', value: compact.slice(0, len) });
    masked = blank(masked, m.index, m.index + end);
    IBAN_RUN.lastIndex = m.index + end;
  }
  IBAN_RUN.lastIndex = 0;
  return masked;
}

/** Card numbers (13-19 digits, Luhn) and routing numbers (9 digits, ABA), grouped by spaces or dashes or not. */
function findDigitRuns(text: string, out: AccountNumber[]): string {
  let masked = text;
  for (const m of text.matchAll(DIGIT_RUN)) {
    const groups = m[0].split(/[ -]/);
    // The run may carry a trailing group that is not part of the number ("4111 1111 1111 1111 12/27").
    for (let i = groups.length; i > 0; i--) {
      const digits = groups.slice(0, i).join('');
      const kind = luhnValid(digits) ? 'card' : digits.length === 9 && i === groups.length && abaValid(digits) ? 'routing' : undefined;
      if (kind) {
        out.push({ kind, value: digits });
        masked = blank(masked, m.index, m.index + groups.slice(0, i).join(' ').length);
        break;
      }
    }
  }
  return masked;
}

/** Every account-like number in the text, each normalised value once, in order of kind then appearance. */
export function findAccountNumbers(input: string): AccountNumber[] {
  const out: AccountNumber[] = [];
  let text = foldText(input);
  text = findIbans(text, out);
  text = findDigitRuns(text, out);
  for (const m of text.matchAll(BIC_RUN)) {
    const code = m[0];
    // Upper-case words of eight letters are common ("CUSTOMER"); a BIC without digits counts only when labelled.
    const labelled = BIC_LABEL.test(text.slice(Math.max(0, m.index - 20), m.index));
    if (bicShaped(code) && (labelled || /\d/.test(code.slice(6)))) out.push({ kind: 'bic', value: code });
  }
  for (const m of text.matchAll(ACCOUNT_LABEL)) out.push({ kind: 'account', value: m[1]!.replace(/[ -]/g, '') });
  const seen = new Set<string>();
  return out.filter((a) => !seen.has(a.value) && (seen.add(a.value), true));
}

/**
 * Whether a normalised number appears in `squashed` (see `squash`). A digit-only number must not be part of a
 * longer digit run there; an IBAN or BIC is fixed-length, so containment is enough.
 */
export function appearsIn(squashed: string, value: string): boolean {
  if (!/^\d+$/.test(value)) return squashed.includes(value);
  for (let i = squashed.indexOf(value); i >= 0; i = squashed.indexOf(value, i + 1)) {
    if (!/\d/.test(squashed[i - 1] ?? '') && !/\d/.test(squashed[i + value.length] ?? '')) return true;
  }
  return false;
}
