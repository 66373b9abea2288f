/**
 * The HTML and CSS libraries of the visible-text pass (./visible-html.ts, ./stylesheet.ts, ./selectors.ts),
 * required on first use rather than imported: html-to-text, css-select, postcss and the DOM helpers are ~50
 * modules that a server starting up (cold start to tools/list) never needs, and their callers are synchronous
 * presenters, so a dynamic import() cannot stand in. Every one comes from its CommonJS build through this one
 * require, so the nodes htmlparser2 makes and the Element class and helpers used on them are the same copies.
 */
import { createRequire } from 'node:module';
import type * as CssSelect from 'css-select';
import type * as CssWhat from 'css-what';
import type * as DomHandler from 'domhandler';
import type * as DomUtilsNs from 'domutils';
import type * as DomSerializer from 'dom-serializer';
import type * as HtmlToText from 'html-to-text';
import type * as HtmlParser2 from 'htmlparser2';
import type SafeParse from 'postcss-safe-parser';

export interface HtmlLibs {
  parseDocument: typeof HtmlParser2.parseDocument;
  render: typeof DomSerializer.default;
  Element: typeof DomHandler.Element;
  isTag: typeof DomHandler.isTag;
  isText: typeof DomHandler.isText;
  DomUtils: typeof DomUtilsNs;
  convert: typeof HtmlToText.convert;
  compile: typeof CssSelect.compile;
  parseSelector: typeof CssWhat.parse;
  safeParse: typeof SafeParse;
}

const load = createRequire(import.meta.url);
let libs: HtmlLibs | undefined;

export function htmlLibs(): HtmlLibs {
  if (libs) return libs;
  const domhandler = load('domhandler') as typeof DomHandler;
  libs = {
    parseDocument: (load('htmlparser2') as typeof HtmlParser2).parseDocument,
    render: (load('dom-serializer') as typeof DomSerializer).default,
    Element: domhandler.Element,
    isTag: domhandler.isTag,
    isText: domhandler.isText,
    DomUtils: load('domutils') as typeof DomUtilsNs,
    convert: (load('html-to-text') as typeof HtmlToText).convert,
    compile: (load('css-select') as typeof CssSelect).compile,
    parseSelector: (load('css-what') as typeof CssWhat).parse,
    safeParse: load('postcss-safe-parser') as typeof SafeParse,
  };
  return libs;
}
