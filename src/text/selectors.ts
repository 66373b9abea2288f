/**
 * Matching `<style>` selectors to elements for the hidden-text check (src/text/stylesheet.ts): which rules could
 * match an element (by the id, class or tag a selector ends with), compiling a selector only when first needed,
 * and the budget every step of matching is charged to, so a hostile message stops with TooComplex.
 */
import type { Options } from 'css-select';
import type { Selector } from 'css-what';
import type { AnyNode, Element } from 'domhandler';
import { htmlLibs } from './html-libs.js';

export class TooComplex extends Error {}

export type Adapter = NonNullable<Options<AnyNode, Element>['adapter']>;

export interface Budget {
  left: number;
}

export function spend(budget: Budget, n = 1): void {
  budget.left -= n;
  if (budget.left < 0) throw new TooComplex('the HTML is too complex to check for hidden text');
}

/** The index keys an element offers its descendants' selectors. */
export function keysOf(el: Element): string[] {
  const keys = [el.name.toLowerCase()];
  if (el.attribs.id) keys.push(`#${el.attribs.id.toLowerCase()}`);
  for (const c of (el.attribs.class ?? '').toLowerCase().split(/\s+/)) if (c) keys.push(`.${c}`);
  return keys;
}

/**
 * Compiled on first use: most selectors of a long newsletter sheet never meet a candidate element. A selector
 * css-select cannot compile matches nothing.
 */
export function lazyCompile(selector: Selector[], adapter: Adapter): (el: Element) => boolean {
  let test: ((el: Element) => boolean) | undefined;
  return (el) => {
    if (!test) {
      try {
        test = htmlLibs().compile<AnyNode, Element>([selector], { adapter, quirksMode: true, xmlMode: false });
      } catch {
        test = () => false;
      }
    }
    return test(el);
  };
}

/**
 * Keys required of ancestors: those of every compound left of a descendant or child combinator (a compound
 * left of a sibling combinator is a sibling, but anything it is inside of is an ancestor of the subject too).
 */
export function ancestorKeys(selector: Selector[]): string[] {
  const keys: string[] = [];
  let ancestor = false;
  for (let i = selector.length - 1; i >= 0; i--) {
    const t = selector[i]!;
    if (COMBINATORS.has(t.type)) {
      if (t.type === 'parent' || t.type === 'column-combinator') break;
      ancestor = t.type === 'descendant' || t.type === 'child';
    } else if (ancestor) {
      if (t.type === 'tag') keys.push(t.name.toLowerCase());
      else if (t.type === 'attribute' && t.name === 'id' && t.action === 'equals') keys.push(`#${t.value.toLowerCase()}`);
      else if (t.type === 'attribute' && t.name === 'class' && t.action === 'element') keys.push(`.${t.value.toLowerCase()}`);
    }
  }
  return keys;
}

export function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

const COMBINATORS = new Set(['descendant', 'child', 'sibling', 'adjacent', 'parent', 'column-combinator']);

/** The id, class or tag the selector's last compound requires, if any: its bucket in the index. */
export function keyOf(selector: Selector[]): { kind: 'id' | 'class' | 'tag'; value: string } | null {
  let tag: string | null = null;
  let cls: string | null = null;
  for (let i = selector.length - 1; i >= 0 && !COMBINATORS.has(selector[i]!.type); i--) {
    const t = selector[i]!;
    if (t.type === 'attribute' && t.name === 'id' && t.action === 'equals') return { kind: 'id', value: t.value.toLowerCase() };
    if (t.type === 'attribute' && t.name === 'class' && t.action === 'element') cls ??= t.value.toLowerCase();
    if (t.type === 'tag') tag = t.name.toLowerCase();
  }
  if (cls) return { kind: 'class', value: cls };
  return tag ? { kind: 'tag', value: tag } : null;
}

/** Selector specificity (ids, classes/attributes/pseudo-classes, types) packed into one comparable number. */
export function specificity(list: Selector[][]): number {
  let best = 0;
  for (const selector of list) {
    let score = 0;
    for (const t of selector) {
      if (t.type === 'attribute') score += t.name === 'id' && t.action === 'equals' ? 1_000_000 : 1_000;
      else if (t.type === 'tag') score += 1;
      else if (t.type === 'pseudo') {
        if (t.name === 'where') continue;
        score += Array.isArray(t.data) && ['not', 'is', 'matches', 'has'].includes(t.name) ? specificity(t.data) : 1_000;
      }
    }
    best = Math.max(best, score);
  }
  return best;
}

/** css-select's default DOM adapter (domutils) with every step charged to the budget. */
export function countedAdapter(budget: Budget): Adapter {
  const { DomUtils } = htmlLibs();
  const find = (test: (el: Element) => boolean, nodes: AnyNode[], first: boolean): Element[] => {
    const found: Element[] = [];
    const stack = [...nodes].reverse();
    while (stack.length) {
      const node = stack.pop()!;
      spend(budget);
      if (!DomUtils.isTag(node)) continue;
      if (test(node)) {
        found.push(node);
        if (first) return found;
      }
      for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
    }
    return found;
  };
  const step =
    <A extends unknown[], R>(fn: (...args: A) => R) =>
    (...args: A): R => {
      spend(budget);
      return fn(...args);
    };
  return {
    isTag: (node): node is Element => {
      spend(budget);
      return DomUtils.isTag(node);
    },
    existsOne: (test, elems) => find(test, elems, true).length > 0,
    getAttributeValue: step((el: Element, name: string) => el.attribs[name]),
    getChildren: step((node: AnyNode) => DomUtils.getChildren(node)),
    getName: step((el: Element) => el.name),
    getParent: step((el: Element) => el.parent),
    getSiblings: (node) => {
      const s = DomUtils.getSiblings(node);
      spend(budget, s.length);
      return s;
    },
    prevElementSibling: step((node: AnyNode) => DomUtils.prevElementSibling(node)),
    getText: (node) => {
      const t = DomUtils.textContent(node);
      spend(budget, 1 + t.length / 64);
      return t;
    },
    hasAttrib: step((el: Element, name: string) => Object.hasOwn(el.attribs, name)),
    removeSubsets: (nodes) => {
      spend(budget, nodes.length);
      return DomUtils.removeSubsets(nodes);
    },
    findAll: (test, nodes) => find(test, nodes, false),
    findOne: (test, elems) => find(test, elems, true)[0] ?? null,
  };
}
