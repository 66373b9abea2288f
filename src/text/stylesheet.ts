/**
 * The `<style>` rules of an email, parsed with a fault-tolerant CSS parser (postcss-safe-parser, as lenient
 * as a browser) and matched to elements with css-select. Only declarations that can hide text are kept.
 * Rules are indexed by the id, class or tag their selector ends with, as browsers do, so an element is
 * tested against the few rules that could match it; every step of matching is charged to a budget, so a
 * hostile message (thousands of rules, :has() over deep trees) stops with TooComplex instead of hanging.
 */
import type { AtRule, Container, Root, Rule } from 'postcss';
import type { Selector } from 'css-what';
import type { Element } from 'domhandler';
import { htmlLibs } from './html-libs.js';
import { type Adapter, ancestorKeys, type Budget, countedAdapter, keyOf, lazyCompile, push, specificity, spend, TooComplex } from './selectors.js';

/** Properties that can hide text; declarations of any other property are dropped at parse time. */
const RELEVANT = new Set([
  'display',
  'visibility',
  'opacity',
  'font-size',
  'font',
  'color',
  '-webkit-text-fill-color',
  'background',
  'background-color',
  'background-image',
  'height',
  'max-height',
  'width',
  'max-width',
  'overflow',
  'overflow-x',
  'overflow-y',
  'position',
  'left',
  'top',
  'right',
  'bottom',
  'margin',
  'margin-left',
  'margin-top',
  'text-indent',
  'transform',
  'clip',
  'clip-path',
  'mso-hide',
  'content-visibility',
  'filter',
]);

export interface Declaration {
  prop: string;
  value: string;
  important: boolean;
}
/** Declarations with their cascade weight: a matched rule, or an inline style as one rule that outweighs all. */
export interface Matched {
  decls: Declaration[];
  specificity: number;
  order: number;
}

interface IndexedRule {
  test: (el: Element) => boolean;
  /** Ids, classes and tags some ancestor must have (`#a`, `.b`, `c`): a cheap first filter, as in browsers. */
  ancestors: string[];
  decls: Declaration[];
  specificity: number;
  order: number;
}

const MAX_SELECTORS = 4000;
const MAX_STYLE_CHARS = 512 * 1024;

/** Declarations of a declaration list (an inline `style` attribute, or a rule's body), relevant ones only. */
function declarations(container: Container): Declaration[] {
  const out: Declaration[] = [];
  for (const node of container.nodes ?? []) {
    if (node.type !== 'decl') continue;
    const prop = node.prop.toLowerCase();
    if (RELEVANT.has(prop)) out.push({ prop, value: node.value.trim().toLowerCase(), important: node.important === true });
  }
  return out;
}

export function parseInlineStyle(style: string): Declaration[] {
  return declarations(htmlLibs().safeParse(style) as Root);
}

export class StyleSheet {
  private readonly byId = new Map<string, IndexedRule[]>();
  private readonly byClass = new Map<string, IndexedRule[]>();
  private readonly byTag = new Map<string, IndexedRule[]>();
  private readonly universal: IndexedRule[] = [];
  private count = 0;

  constructor(
    css: string,
    private readonly budget: Budget,
  ) {
    if (css.length > MAX_STYLE_CHARS) throw new TooComplex(`the HTML has more than ${MAX_STYLE_CHARS} characters of CSS`);
    if (!css.trim()) return;
    const adapter = countedAdapter(budget);
    // An explicit stack rather than recursion: @media blocks can nest as deep as a hostile sender likes.
    const stack: Container[] = [htmlLibs().safeParse(css) as Root];
    while (stack.length) {
      for (const node of stack.pop()!.nodes ?? []) {
        spend(budget);
        if (node.type === 'rule') this.add(node, adapter);
        else if (node.type === 'atrule' && appliesToScreen(node)) stack.push(node);
      }
    }
  }

  private add(rule: Rule, adapter: Adapter): void {
    const decls = declarations(rule);
    if (decls.length === 0) return;
    let list: Selector[][];
    try {
      list = htmlLibs().parseSelector(rule.selector);
    } catch {
      return; // a browser drops a rule whose selector it cannot parse
    }
    for (const selector of list) {
      // A rule for ::before or ::after styles generated content, never the element's own text.
      if (selector.some((t) => t.type === 'pseudo-element')) continue;
      if (++this.count > MAX_SELECTORS) throw new TooComplex(`the HTML has more than ${MAX_SELECTORS} CSS selectors that can hide text`);
      const indexed: IndexedRule = {
        test: lazyCompile(selector, adapter),
        ancestors: ancestorKeys(selector),
        decls,
        specificity: specificity([selector]),
        order: this.count,
      };
      const key = keyOf(selector);
      if (!key) this.universal.push(indexed);
      else push(key.kind === 'id' ? this.byId : key.kind === 'class' ? this.byClass : this.byTag, key.value, indexed);
    }
  }

  get empty(): boolean {
    return this.count === 0;
  }

  /** The sheet's declarations that apply to the element, given the keys (keysOf) of its ancestors. */
  matching(el: Element, ancestors: ReadonlyMap<string, number>): Matched[] {
    const out: Matched[] = [];
    if (this.count === 0) return out;
    const test = (list: IndexedRule[] | undefined) => {
      for (const rule of list ?? []) {
        spend(this.budget, 1 + rule.ancestors.length);
        if (!rule.ancestors.some((k) => !ancestors.get(k)) && rule.test(el)) out.push(rule);
      }
    };
    test(this.universal);
    if (el.attribs.id) test(this.byId.get(el.attribs.id.toLowerCase()));
    const classes = (el.attribs.class ?? '').toLowerCase().split(/\s+/);
    spend(this.budget, classes.length);
    // class="a a a ..." must not test the rules for .a once per repetition.
    classes.forEach((c, i) => {
      if (c && classes.indexOf(c) === i) test(this.byClass.get(c));
    });
    test(this.byTag.get(el.name.toLowerCase()));
    return out;
  }
}

/**
 * Whether an at-rule's rules apply to a person reading on a desktop screen (1024x768, light scheme):
 * @media is evaluated for that screen, @supports assumed true, the rest (@font-face, @keyframes) ignored.
 */
function appliesToScreen(rule: AtRule): boolean {
  const name = rule.name.toLowerCase();
  if (name === 'supports') return true;
  if (name !== 'media') return false;
  return rule.params.split(',').some((q) => {
    let query = q.trim().toLowerCase();
    const negate = /^not\s/.test(query);
    if (negate) query = query.slice(4);
    const type = /^(?:only\s+)?([a-z-]+)/.exec(query)?.[1];
    let match = !type || type === 'screen' || type === 'all' || type === 'and';
    for (const [, feature, value] of query.matchAll(/\(\s*([a-z-]+)\s*(?::\s*([^)]*))?\)/g)) {
      if (!mediaFeature(feature!, value?.trim())) match = false;
    }
    return negate ? !match : match;
  });
}

function mediaFeature(feature: string, value: string | undefined): boolean {
  const m = /^(min-|max-)?(?:device-)?(width|height)$/.exec(feature);
  if (m && value) {
    const size = m[2] === 'width' ? 1024 : 768;
    const px = /^([\d.]+)(px|em|rem)?$/.exec(value);
    if (!px) return true;
    const n = Number(px[1]) * (px[2] === 'em' || px[2] === 'rem' ? 16 : 1);
    return m[1] === 'min-' ? size >= n : m[1] === 'max-' ? size <= n : size === n;
  }
  if (feature === 'prefers-color-scheme') return value !== 'dark';
  if (feature === 'orientation') return value !== 'portrait';
  // A feature this check does not model counts as matching: a rule gated on it still hides text from someone.
  return true;
}
