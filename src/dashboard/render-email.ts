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
  /** What the frame's height is estimated from: the sanitised HTML. */
  clean: string;
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
  return { srcdoc, links, clean };
}

const BLOCK = /<(?:\/?(?:p|div|li|tr|h[1-6]|blockquote|pre|table|ul|ol)|br)\b[^>]*>/gi;

/**
 * The frame's content cannot be measured from the page (it is sandboxed without allow-same-origin and runs no
 * script), so its height is estimated from the text: each block's length in characters (data-fit, which
 * app.js re-wraps to the frame's actual width) and the images' heights. The default `height` assumes a
 * desktop width; CSS caps it at 70vh, past which the frame scrolls on its own.
 */
function measure(clean: string): { blocks: number[]; images: number } {
  let images = 0;
  // Only images with a (data:) source take room; the sanitiser leaves a remote one without any.
  for (const m of clean.matchAll(/<img\b[^>]*\bsrc=[^>]*>/gi)) images += Number(/\bheight="(\d{1,4})"/.exec(m[0])?.[1] ?? 120) + 4;
  const blocks = clean
    .split(BLOCK)
    .map(
      (b) =>
        b
          .replace(/<[^>]*>/g, '')
          .replace(/&[#\w]+;/g, ' ')
          .replace(/\s+/g, ' ')
          .trim().length,
    )
    .filter((n) => n > 0)
    .slice(0, 400);
  return { blocks, images };
}

/** Pixels for `blocks` wrapped at `perLine` characters: app.js does the same sum at the frame's real width. */
function height(blocks: number[], images: number, perLine: number): number {
  const lines = blocks.reduce((n, len) => n + Math.ceil(len / perLine), 0);
  return Math.max(64, Math.min(2000, 40 + lines * 19 + blocks.length * 14 + images));
}

/** The sandboxed iframe showing the inert HTML. */
export function emailFrame(html: string): string {
  const { srcdoc, links, clean } = inertHtml(html);
  const { blocks, images } = measure(clean);
  const list = links.length
    ? `<p class="muted">Links in the HTML (not clickable above):</p><ul class="links">${links.map((l) => `<li><code>${bdi(l)}</code></li>`).join('')}</ul>`
    : '';
  return `<iframe class="email-html" title="HTML part (inert)" sandbox referrerpolicy="no-referrer" height="${height(blocks, images, 110)}" data-fit="${blocks.join(' ')}" data-images="${images}" srcdoc="${escapeHtml(srcdoc)}"></iframe>${list}`;
}
