/**
 * HTML to the text a person reading it would see. The document is parsed (htmlparser2), each element's
 * style computed from its inline style, the `<style>` sheets (./stylesheet.ts) and presentational attributes
 * through a small cascade, and text a reader cannot see is dropped and counted, or, on request, kept and
 * marked `[hidden: ...]`. The rest is laid out as text by html-to-text. Work is linear in the size of the
 * document and charged to a budget; a document over the limits has its text withheld, never passed on unchecked.
 */
import type { AnyNode, Document, Element, Text } from 'domhandler';
import { htmlLibs } from './html-libs.js';
import { cascade, computeStyle, hidesSubtree, readable, ROOT_STYLE, type Style } from './computed-style.js';
import { stripInvisible } from './invisible.js';
import { type Budget, keysOf, spend, TooComplex } from './selectors.js';
import { type Declaration, StyleSheet } from './stylesheet.js';

export interface VisibleText {
  text: string;
  /** Runs of hidden text removed (or marked): one per hiding element, or per element styled unreadable. */
  hidden_count: number;
  /** Invisible characters removed from the text before layout (html-to-text would turn some into spaces). */
  invisible_count: number;
}

/** Nesting deeper than this is refused before parsing: htmlparser2's work grows with depth times tags. */
export const MAX_DEPTH = 400;
/** Steps of style matching and tree walking one document may take (a few hundred milliseconds at most). */
const MAX_STEPS = 1_500_000;
/** Never rendered as text, never counted: code and metadata, not content a sender hid. */
const DROPPED = new Set(['script', 'style', 'head', 'title', 'meta', 'link', 'object', 'iframe']);
/** Elements whose end tag may be left out: they do not nest, so they are not counted as depth. */
const NO_NEST = new Set([
  'p',
  'li',
  'dt',
  'dd',
  'tr',
  'td',
  'th',
  'option',
  'optgroup',
  'rp',
  'rt',
  'tbody',
  'thead',
  'tfoot',
  'colgroup',
  'caption',
  'html',
  'head',
  'body',
  'br',
  'img',
  'hr',
  'meta',
  'link',
  'input',
  'wbr',
  'area',
  'base',
  'col',
  'embed',
  'source',
  'track',
  'param',
]);

/** What stands in for the text of a document the check could not finish: withheld, counted as one hidden run. */
function withheld(why: string): VisibleText {
  const text = `[mailgate: the HTML of this email was not shown because ${why}; ask a person to read it in the dashboard or mail client]`;
  return { text, hidden_count: 1, invisible_count: 0 };
}

/** The visible text of an HTML document; with `showHidden`, hidden text is kept, marked `[hidden: ...]`. */
export function htmlToVisibleText(html: string, opts: { showHidden?: boolean } = {}): VisibleText {
  if (nestingDepth(html) > MAX_DEPTH) return withheld(`it nests elements more than ${MAX_DEPTH} deep`);
  try {
    return visibleText(html, opts.showHidden === true);
  } catch (err) {
    if (err instanceof TooComplex) return withheld(err.message.replace(/^the HTML is /, 'it is '));
    throw err;
  }
}

/** An upper bound on element nesting, from a linear scan of tag names (no parser, no backtracking). */
function nestingDepth(html: string): number {
  let depth = 0;
  let max = 0;
  for (const m of html.matchAll(/<(\/?)([a-zA-Z][\w-]*)/g)) {
    if (NO_NEST.has(m[2]!.toLowerCase())) continue;
    depth = m[1] ? Math.max(0, depth - 1) : depth + 1;
    max = Math.max(max, depth);
  }
  return max;
}

/** `hidden`: the element that hides this node and everything in it, if any; `link`: the link it is in. */
interface Frame {
  node: AnyNode;
  style: Style;
  hidden: Element | null;
  link: Link | null;
}

/** A link, whether any of its text is visible, and its last hidden text node. */
interface Link {
  el: Element;
  visible: boolean;
  last: Text | null;
}

function visibleText(html: string, showHidden: boolean): VisibleText {
  const budget: Budget = { left: MAX_STEPS };
  const { parseDocument, isTag, isText, DomUtils, convert, render } = htmlLibs();
  const doc = parseDocument(html);
  const dropped: Element[] = [];
  let css = '';
  forEachNode(doc.children, budget, (node) => {
    if (!isTag(node)) return false;
    if (node.name === 'style') css += `${DomUtils.textContent(node)}\n`;
    if (DROPPED.has(node.name)) dropped.push(node);
    // A <style> may sit anywhere, in <head> or the body (mail clients apply both).
    return node.name !== 'style' && node.name !== 'script';
  });
  for (const el of dropped) blank(el);
  wrapInBody(doc);
  const sheet = new StyleSheet(css, budget);
  const inline = new Map<string, Declaration[]>();

  const texts: HiddenBy[] = [];
  const hiddenRoots: Element[] = [];
  // Ids, classes and tags of the elements the walk is inside, counted, for the sheet's ancestor filter.
  const ancestors = new Map<string, number>();
  const links: Link[] = [];
  let invisible = 0;
  const stack: (Frame | { leave: string[] })[] = [...doc.children].reverse().map((node) => ({ node, style: ROOT_STYLE, hidden: null, link: null }));
  while (stack.length) {
    const frame = stack.pop()!;
    spend(budget);
    if ('leave' in frame) {
      for (const k of frame.leave) ancestors.set(k, ancestors.get(k)! - 1);
      continue;
    }
    const { node, style, hidden } = frame;
    if (isText(node)) {
      const clean = stripInvisible(node.data);
      node.data = clean.text;
      invisible += clean.removed;
      if (!node.data.trim()) continue;
      const by = hidden ?? (readable(style) ? null : node.parent);
      texts.push({ node, by });
      if (frame.link && by) frame.link.last = node;
      else if (frame.link) frame.link.visible = true;
      continue;
    }
    if (!isTag(node)) continue;
    let own = style;
    let hide = hidden;
    let link = frame.link;
    if (node.name === 'a' && node.attribs.href) links.push((link = { el: node, visible: false, last: null }));
    if (!hidden) {
      const decls = cascade(node, sheet.matching(node, ancestors), inline, budget);
      // Most elements of a mail carry no style that matters here: they inherit, and only attributes can hide them.
      own = decls.size ? computeStyle(node, decls, style) : style;
      if (decls.size ? hidesSubtree(node, decls, own) : node.attribs.hidden !== undefined || node.name === 'template') {
        hiddenRoots.push(node);
        hide = node;
      } else if (!sheet.empty) {
        const keys = keysOf(node);
        spend(budget, keys.length);
        for (const k of keys) ancestors.set(k, (ancestors.get(k) ?? 0) + 1);
        stack.push({ leave: keys });
      }
    }
    for (let i = node.children.length - 1; i >= 0; i--) stack.push({ node: node.children[i]!, style: own, hidden: hide, link });
  }

  // The address of a link whose text is all hidden is hidden too (html-to-text would print it as `[url]`).
  for (const { el, visible, last } of links) {
    if (visible || !last) continue;
    if (showHidden) last.data += ` (link: ${el.attribs.href})`;
    delete el.attribs.href;
  }
  const hidden_count = markRuns(texts, showHidden);
  if (!showHidden) for (const el of hiddenRoots) blank(el);
  const text = convert(render(doc), { wordwrap: false, preserveNewlines: false, selectors: [{ selector: 'img', format: 'skip' }] });
  // Blocks left empty by removed text would otherwise show as runs of blank lines.
  return { text: text.replace(/\n{3,}/g, '\n\n'), hidden_count, invisible_count: invisible };
}

/**
 * Gives the document the <html> and <body> a browser always has (htmlparser2 adds none), so selectors such as
 * `body .x` match as they do in a mail client.
 */
function wrapInBody(doc: Document): void {
  const { isTag, Element } = htmlLibs();
  let html = doc.children.find((n): n is Element => isTag(n) && n.name === 'html');
  if (!html) html = adopt(doc, new Element('html', {}), doc.children);
  if (!html.children.some((n) => isTag(n) && n.name === 'body')) adopt(html, new Element('body', {}), html.children);
}

/** Moves all of parent's children into wrapper, in place of them (O(n), unlike n appendChild calls). */
function adopt(parent: Document | Element, wrapper: Element, nodes: AnyNode[]): Element {
  wrapper.children = nodes;
  for (const n of nodes) n.parent = wrapper;
  wrapper.parent = parent;
  parent.children = [wrapper];
  return wrapper;
}

/** Empties an element in O(1): removing many siblings one by one would cost their number squared. */
function blank(el: Element): void {
  el.children = [];
  el.name = 'span';
  el.attribs = {};
}

/** Document-order walk without recursion; `visit` returning false skips the node's children. */
function forEachNode(nodes: AnyNode[], budget: Budget, visit: (node: AnyNode) => boolean): void {
  const { isTag } = htmlLibs();
  const stack = [...nodes].reverse();
  while (stack.length) {
    const node = stack.pop()!;
    spend(budget);
    if (visit(node) && isTag(node)) for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
  }
}

/** A text node, and the element that hides it (null when visible). */
interface HiddenBy {
  node: Text;
  by: AnyNode | null;
}

/**
 * Hidden text runs counted (consecutive text hidden by the same element: a hidden element's whole content,
 * or the text of one element styled unreadable), then each either emptied or wrapped in one `[hidden: ...]`.
 */
function markRuns(texts: HiddenBy[], showHidden: boolean): number {
  let runs = 0;
  let open: HiddenBy | null = null;
  const close = () => {
    if (open && showHidden) open.node.data += ']';
    open = null;
  };
  for (const t of texts) {
    const { node, by } = t;
    if (by !== open?.by) close();
    if (!by) continue;
    if (!open) {
      runs++;
      if (showHidden) node.data = `[hidden: ${node.data.trimStart()}`;
    }
    if (!showHidden) node.data = '';
    open = t;
  }
  close();
  return runs;
}
