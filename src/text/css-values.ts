/**
 * The few CSS values the hidden-text check reads (colours, lengths, font sizes, clips, transforms), turned into
 * numbers. Colours go through colord (named, #rgb, #rrggbb(aa), rgb()/rgba(), hsl()/hsla()); lengths to CSS
 * pixels for a 1024x768 viewport and a 16px root font. Anything not understood is null, and a null never
 * makes text count as hidden: a value the check cannot read leaves the text as it was.
 */
import { colord, extend } from 'colord';
import namesPlugin from 'colord/plugins/names';

extend([namesPlugin]);

export interface Rgba {
  r: number;
  g: number;
  b: number;
  a: number;
}

export const ROOT_FONT_PX = 16;
const VIEWPORT = { w: 1024, h: 768 };
const ABSOLUTE: Record<string, number> = { px: 1, pt: 4 / 3, pc: 16, in: 96, cm: 96 / 2.54, mm: 96 / 25.4, q: 96 / 101.6 };
const FONT_KEYWORDS: Record<string, number> = {
  'xx-small': 9,
  'x-small': 10,
  small: 13,
  medium: 16,
  large: 18,
  'x-large': 24,
  'xx-large': 32,
  'xxx-large': 48,
};

/** A colour, or null when the value is not one (currentcolor, a var(), a gradient). `transparent` has alpha 0. */
export function parseColor(value: string): Rgba | null {
  const v = value.trim();
  if (!v || /^(currentcolor|inherit|initial|unset|revert)/i.test(v) || /var\(/i.test(v)) return null;
  const c = colord(v.toLowerCase());
  return c.isValid() ? c.toRgb() : null;
}

/** The colour in a `background` shorthand, if one of its parts is a colour. */
export function backgroundColor(value: string): Rgba | null {
  for (const part of splitTopLevel(value)) {
    const c = parseColor(part);
    if (c) return c;
  }
  return null;
}

/** Paints `top` over `bottom` (alpha compositing): what a person sees where a translucent colour lies on another. */
export function over(top: Rgba, bottom: Rgba): Rgba {
  const a = top.a + bottom.a * (1 - top.a);
  if (a === 0) return { r: 0, g: 0, b: 0, a: 0 };
  const mix = (x: number, y: number) => (x * top.a + y * bottom.a * (1 - top.a)) / a;
  return { r: mix(top.r, bottom.r), g: mix(top.g, bottom.g), b: mix(top.b, bottom.b), a };
}

/** WCAG 2 contrast ratio of two opaque colours: 1 for identical colours, 21 for black on white. */
export function contrast(x: Rgba, y: Rgba): number {
  const lum = (c: Rgba) => {
    const ch = (v: number) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
  };
  const [hi, lo] = [lum(x), lum(y)].sort((p, q) => q - p) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** A length in CSS pixels; `%` only when a base is given. `0` needs no unit. */
export function lengthPx(value: string, fontPx: number, percentOf?: number): number | null {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)([a-z%]*)$/i.exec(value.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase();
  if (!Number.isFinite(n)) return null;
  if (unit === '') return n === 0 ? 0 : null;
  if (unit in ABSOLUTE) return n * ABSOLUTE[unit]!;
  switch (unit) {
    case 'em':
      return n * fontPx;
    case 'rem':
      return n * ROOT_FONT_PX;
    case 'ex':
    case 'ch':
      return (n * fontPx) / 2;
    case 'vw':
      return (n * VIEWPORT.w) / 100;
    case 'vh':
      return (n * VIEWPORT.h) / 100;
    case 'vmin':
    case 'vmax':
      return (n * (unit === 'vmin' ? VIEWPORT.h : VIEWPORT.w)) / 100;
    case '%':
      return percentOf === undefined ? null : (n * percentOf) / 100;
    default:
      return null;
  }
}

/** The computed font size for a `font-size` value, given the parent's. */
export function fontSizePx(value: string, parentPx: number): number | null {
  const v = value.trim().toLowerCase();
  if (v in FONT_KEYWORDS) return FONT_KEYWORDS[v]!;
  if (v === 'smaller') return parentPx / 1.2;
  if (v === 'larger') return parentPx * 1.2;
  return lengthPx(v, parentPx, parentPx);
}

/** The size part of a `font` shorthand (`font: 0/0 a` is a common way to hide text). */
export function fontShorthandPx(value: string, parentPx: number): number | null {
  for (const part of splitTopLevel(value)) {
    const size = part.split('/')[0]!;
    // A unitless number other than 0 is a weight (1-1000), never a size.
    if (/^[+-]?[\d.]+$/.test(size) && Number(size) !== 0) continue;
    const px = fontSizePx(size, parentPx);
    if (px !== null) return px;
  }
  return null;
}

/** Values of a shorthand split on top-level whitespace and commas (not inside parentheses or quotes). */
export function splitTopLevel(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let cur = '';
  for (const ch of value) {
    if (quote) {
      cur += ch;
      if (ch === quote) quote = '';
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    if (ch === '(') depth++;
    if (ch === ')') depth = Math.max(0, depth - 1);
    if (depth === 0 && (/\s/.test(ch) || ch === ',')) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

/** Arguments of every `name(...)` function in a value, e.g. the parts of `translate(-9999px, 0)`. */
export function functionArgs(value: string, name: RegExp): string[][] {
  if (!value.includes('(')) return [];
  let re = FUNCTION_PATTERNS.get(name.source);
  if (!re) FUNCTION_PATTERNS.set(name.source, (re = new RegExp(`(?:^|[\\s,(])(${name.source})\\(([^()]*)\\)`, 'gi')));
  const out: string[][] = [];
  for (const m of value.matchAll(re)) out.push(splitTopLevel(m[2]!));
  return out;
}

const FUNCTION_PATTERNS = new Map<string, RegExp>();

/** `clip: rect(top, right, bottom, left)` that leaves no area. */
export function clipHidesAll(value: string, fontPx: number): boolean {
  const [args] = functionArgs(value, /rect/);
  if (args?.length !== 4) return false;
  const [t, r, b, l] = args.map((a) => lengthPx(a, fontPx));
  if ([t, r, b, l].some((x) => x === null || x === undefined)) return false;
  return b! <= t! || r! <= l!;
}

/** `clip-path` shapes that leave nothing: inset(50%) or more, a zero circle or ellipse. */
export function clipPathHidesAll(value: string, fontPx: number): boolean {
  for (const args of functionArgs(value, /inset/)) {
    const pct = args.filter((a) => a.endsWith('%')).map((a) => Number(a.slice(0, -1)));
    if (pct.some((p) => p >= 50)) return true;
  }
  for (const args of functionArgs(value, /circle|ellipse/)) {
    const radii = args.slice(0, args.indexOf('at') === -1 ? args.length : args.indexOf('at'));
    if (radii.length && radii.every((a) => lengthPx(a, fontPx) === 0 || a === '0%')) return true;
  }
  return false;
}

/** A `transform` that scales text away or moves it at least `far` pixels left or up. */
export function transformHides(value: string, fontPx: number, far: number): boolean {
  for (const args of functionArgs(value, /scale|scaleX|scaleY/)) {
    if (args.some((a) => Number(a.replace(/%$/, '')) === 0)) return true;
  }
  const moves = [...functionArgs(value, /translate|translate3d|translateX|translateY/)].flat();
  return moves.some((a) => (lengthPx(a, fontPx) ?? 0) <= -far);
}
