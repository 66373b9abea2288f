/**
 * The computed style of an element, as far as it decides whether text can be read: the cascade (inline
 * style over `<style>` rules by importance, specificity and order, presentational attributes weakest),
 * inherited font size, colours and visibility, and the properties that hide an element with all it contains.
 */
import type { Element } from 'domhandler';
import {
  backgroundColor,
  clipHidesAll,
  clipPathHidesAll,
  contrast,
  fontShorthandPx,
  fontSizePx,
  functionArgs,
  lengthPx,
  over,
  parseColor,
  ROOT_FONT_PX,
  type Rgba,
  splitTopLevel,
  transformHides,
} from './css-values.js';
import { type Budget, spend } from './selectors.js';
import { type Declaration, type Matched, parseInlineStyle } from './stylesheet.js';

/** Below this many CSS pixels, text is unreadable. */
const MIN_FONT_PX = 2;
/** Text moved this far left or up, or indented this far, is off any screen. */
const FAR_PX = 500;
/** Text whose contrast with its background is below this ratio is indistinguishable from it (1 = same colour). */
const MIN_CONTRAST = 1.2;
const BLACK: Rgba = { r: 0, g: 0, b: 0, a: 1 };
const WHITE: Rgba = { r: 255, g: 255, b: 255, a: 1 };

export interface Style {
  fontPx: number;
  color: Rgba;
  /** -webkit-text-fill-color: paints the text instead of `color` where set. */
  fill: Rgba | null;
  /** The opaque colour behind the element, or null where an image may lie behind it (colour unknown). */
  backdrop: Rgba | null;
  visible: boolean;
  opacity: number;
  indentAway: boolean;
}

/** The style of the root: 16px black text on white. */
export const ROOT_STYLE: Style = { fontPx: ROOT_FONT_PX, color: BLACK, fill: null, backdrop: WHITE, visible: true, opacity: 1, indentAway: false };

interface Weight {
  important: boolean;
  specificity: number;
  order: number;
  value: string;
}

/** The winning value of each relevant property: !important first, then inline over sheet, specificity, order. */
export function cascade(el: Element, matched: Matched[], inline: Map<string, Declaration[]>, budget: Budget): Map<string, string> {
  const style = el.attribs.style;
  if (style) {
    let decls = inline.get(style);
    if (!decls) {
      // Charged about what a parse costs, so that thousands of distinct styles exhaust the budget.
      spend(budget, 40 + style.length / 8);
      decls = parseInlineStyle(style);
      inline.set(style, decls);
    }
    matched.push({ decls, specificity: Number.MAX_SAFE_INTEGER, order: 0 });
  }
  // Later wins on a tie, so the declarations of one rule are taken in order.
  const wins = (a: Weight, b: Weight) =>
    a.important !== b.important ? a.important : a.specificity !== b.specificity ? a.specificity > b.specificity : a.order >= b.order;
  const best = new Map<string, Weight>();
  for (const rule of matched) {
    for (const d of rule.decls) {
      const w = { important: d.important, specificity: rule.specificity, order: rule.order, value: d.value };
      const cur = best.get(d.prop);
      if (!cur || wins(w, cur)) best.set(d.prop, w);
    }
  }
  const out = new Map<string, string>();
  for (const [p, d] of best) out.set(p, d.value);
  // Presentational attributes are the weakest author styles: any CSS for the same property wins.
  const hint = (prop: string, value: string | undefined) => {
    if (value !== undefined && !out.has(prop)) out.set(prop, value.toLowerCase());
  };
  hint('background-color', el.attribs.bgcolor);
  if (el.name === 'font') hint('color', el.attribs.color);
  if (el.name === 'body') hint('color', el.attribs.text);
  return out;
}

/** The element's style from its declarations and its parent's style (what inherits, inherits). */
export function computeStyle(el: Element, d: Map<string, string>, parent: Style): Style {
  const s: Style = { ...parent };
  const font = d.get('font');
  const size = d.get('font-size');
  const px =
    size !== undefined
      ? size === 'inherit'
        ? parent.fontPx
        : fontSizePx(size, parent.fontPx)
      : font !== undefined
        ? fontShorthandPx(font, parent.fontPx)
        : null;
  if (px !== null) s.fontPx = px;
  s.color = colorOf(d.get('color'), parent.color) ?? parent.color;
  const fill = d.get('-webkit-text-fill-color');
  if (fill !== undefined) s.fill = fill === 'currentcolor' ? null : (parseColor(fill) ?? parent.fill);
  const vis = d.get('visibility');
  if (vis === 'hidden' || vis === 'collapse') s.visible = false;
  else if (vis === 'visible') s.visible = true;
  s.opacity = parent.opacity * opacityOf(d);
  const indent = d.get('text-indent');
  if (indent !== undefined) s.indentAway = (lengthPx(splitTopLevel(indent)[0] ?? '', s.fontPx) ?? 0) <= -FAR_PX;
  s.backdrop = backdropOf(el, d, parent, s.color);
  return s;
}

function colorOf(value: string | undefined, current: Rgba): Rgba | null {
  if (value === undefined) return null;
  return value === 'currentcolor' || value === 'inherit' ? current : parseColor(value);
}

function opacityOf(d: Map<string, string>): number {
  let o = 1;
  const num = (v: string) => (v.endsWith('%') ? Number(v.slice(0, -1)) / 100 : Number(v));
  const opacity = d.get('opacity');
  if (opacity !== undefined && Number.isFinite(num(opacity))) o *= Math.max(0, Math.min(1, num(opacity)));
  for (const [arg] of functionArgs(d.get('filter') ?? '', /opacity/)) if (arg && Number.isFinite(num(arg))) o *= Math.max(0, Math.min(1, num(arg)));
  return o;
}

function backdropOf(el: Element, d: Map<string, string>, parent: Style, color: Rgba): Rgba | null {
  const bg = d.get('background');
  const image = d.get('background-image');
  if ((image && image !== 'none') || (bg && /url\(|gradient\(/.test(bg))) return null;
  const raw = d.get('background-color') ?? bg;
  if (raw === undefined || el.name === 'html') return parent.backdrop;
  const c = raw.trim() === 'currentcolor' ? color : raw === d.get('background') ? backgroundColor(raw) : parseColor(raw);
  if (!c || c.a === 0) return parent.backdrop;
  return parent.backdrop ? over(c, parent.backdrop) : c.a === 1 ? c : null;
}

/** Whether a person can read text with this computed style (size, visibility, indent, colour against backdrop). */
export function readable(s: Style): boolean {
  if (!s.visible || s.fontPx < MIN_FONT_PX || s.indentAway) return false;
  if (!s.backdrop) return true;
  const ink = s.fill ?? s.color;
  return contrast(over({ ...ink, a: ink.a * s.opacity }, s.backdrop), s.backdrop) >= MIN_CONTRAST;
}

/** Whether the element hides itself and everything in it (no descendant can undo these). */
export function hidesSubtree(el: Element, d: Map<string, string>, s: Style): boolean {
  if (el.attribs.hidden !== undefined || el.name === 'template') return true;
  if (d.get('display')?.startsWith('none') || d.get('mso-hide') === 'all' || d.get('content-visibility') === 'hidden') return true;
  if (s.opacity <= 0.1) return true;
  const len = (prop: string) => {
    const v = d.get(prop);
    return v === undefined ? null : lengthPx(v, s.fontPx);
  };
  const clipped = ['overflow', 'overflow-x', 'overflow-y'].some((p) => /^(hidden|clip)/.test(d.get(p) ?? ''));
  if (
    clipped &&
    ['height', 'max-height', 'width', 'max-width'].some((p) => {
      const v = len(p);
      return v !== null && v <= 1;
    })
  )
    return true;
  const position = d.get('position');
  const positioned = position !== undefined && position !== 'static';
  if (positioned && ['left', 'top', 'right', 'bottom'].some((p) => (len(p) ?? 0) <= -FAR_PX)) return true;
  const margin = splitTopLevel(d.get('margin') ?? '');
  const marginTop = len('margin-top') ?? lengthPx(margin[0] ?? '', s.fontPx);
  const marginLeft = len('margin-left') ?? lengthPx(margin[3] ?? margin[1] ?? margin[0] ?? '', s.fontPx);
  if ((marginTop ?? 0) <= -FAR_PX || (marginLeft ?? 0) <= -FAR_PX) return true;
  if ((position === 'absolute' || position === 'fixed') && clipHidesAll(d.get('clip') ?? '', s.fontPx)) return true;
  if (clipPathHidesAll(d.get('clip-path') ?? '', s.fontPx)) return true;
  return transformHides(d.get('transform') ?? '', s.fontPx, FAR_PX);
}
