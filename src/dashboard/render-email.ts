/**
 * A drafted email's HTML, made inert for review. Three layers, each enough on its own for scripts:
 * sanitize-html keeps only formatting tags (no script, style, event handlers, forms, remote images, links that
 * navigate); the result goes in an `<iframe sandbox>` with neither allow-scripts nor allow-same-origin; and
 * the document carries a CSP that allows no load at all but inline data: images, so even markup the sanitiser
 * missed cannot call out (tracking pixels, CSS imports).
 */
import sanitizeHtml from 'sanitize-html';
import { escapeHtml } from '../http/approval-page.js';
import { bdi } from './views/layout.js';

export const FRAME_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

interface InertHtml {
  /** The value for the iframe's srcdoc attribute (still to be attribute-escaped). */
  srcdoc: string;
  /** Every link target in the HTML, shown to the reviewer as text (the rendered links do not navigate). */
  links: string[];
}

function inertHtml(html: string): InertHtml {
  const links: string[] = [];
  const clean = sanitizeHtml(html, {
    allowedTags: [...sanitizeHtml.defaults.allowedTags, 'img', 'font', 'center'],
    allowedAttributes: {
      a: ['title'],
      img: ['src', 'alt', 'width', 'height'],
      td: ['colspan', 'rowspan', 'align'],
      th: ['colspan', 'rowspan', 'align'],
      '*': ['dir', 'lang'],
    },
    allowedSchemes: [],
    allowedSchemesByTag: { img: ['data'] },
    allowProtocolRelative: false,
    transformTags: {
      // The link keeps its text; its target is dropped (so it cannot navigate) and shown on hover and below.
      a: (_tag, given) => {
        const href = given.href?.trim();
        if (href) links.push(href);
        const attribs: Record<string, string> = href ? { title: href } : {};
        return { tagName: 'a', attribs };
      },
    },
  });
  const srcdoc =
    `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${FRAME_CSP}">` +
    `</head><body>${clean}</body></html>`;
  return { srcdoc, links };
}

/** The sandboxed iframe showing the inert HTML. */
export function emailFrame(html: string): string {
  const { srcdoc, links } = inertHtml(html);
  const list = links.length
    ? `<p class="muted">Links in the HTML (not clickable above):</p><ul class="links">${links.map((l) => `<li><code>${bdi(l)}</code></li>`).join('')}</ul>`
    : '';
  return `<iframe class="email-html" title="HTML part (inert)" sandbox referrerpolicy="no-referrer" srcdoc="${escapeHtml(srcdoc)}"></iframe>${list}`;
}
