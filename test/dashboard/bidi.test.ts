// biome-ignore-all lint/performance/useDomNodeTextContent: innerText on purpose: these tests assert what a person sees rendered, which textContent does not give
/**
 * `invoice<U+202E>fdp.exe` must not pass for `invoiceexe.pdf` in front of a reviewer. The dashboard isolates
 * every name, subject and address in a <bdi> and shows bidi and invisible controls as visible marks, on its
 * own: the row here is written straight to the store, as one drafted before outbound names were checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/gate/types.js';
import { newMessageId, newMessageIdHeader } from '../../src/ids.js';
import { type DashboardHarness, requireChromiumOrSkip, startDashboardHarness } from './harness.js';

const RLO = '\u202E';
const HELD: Decision = { outcome: 'hold', code: 'mode_requires_approval', reason: 'held for review' };

describe.skipIf(!requireChromiumOrSkip())('review dashboard: names cannot be disguised with bidi controls', () => {
  let h: DashboardHarness;
  beforeAll(async () => {
    h = await startDashboardHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  async function heldWith(filename: string, subject: string): Promise<string> {
    const header = newMessageIdHeader('agent@mailgate.test');
    const r = await h.app.store.submitMessage(
      {
        message_id: newMessageId(),
        message_id_header: header,
        mailbox: 'agent@mailgate.test',
        kind: 'send',
        thread_key: header,
        content: { to: [`pay${RLO}moc.evil@mailgate.test`], cc: [], bcc: [], subject, text: `See ${filename}`, html: null },
        actor: 'mcp:agent/test-client',
        attachments: [{ filename, content_type: 'application/octet-stream', content: Buffer.from('MZ not really a PDF') }],
      },
      () => HELD,
      h.app.clock(),
    );
    expect(r.message.status).toBe('pending');
    return r.message.message_id;
  }

  it('an attachment named invoice<U+202E>fdp.exe renders isolated, with the control shown as a mark', async () => {
    const id = await heldWith(`invoice${RLO}fdp.exe`, `Invoice ${RLO}fdp.exe attached`);
    const { page } = await h.newPage(h.tokens.alice);
    await page.goto(`${h.url}messages/${id}`);

    const name = page.locator('td.filename');
    expect(await name.evaluate((td) => td.firstElementChild?.tagName)).toBe('BDI');
    expect(await name.locator('bdi').textContent()).toBe('invoice⟨U+202E⟩fdp.exe');
    expect(await name.innerText()).toBe('invoice⟨U+202E⟩fdp.exe');
    // No override reaches the page's text as a character, so nothing on it is drawn reversed. (The edit form's
    // fields keep the drafted value exactly, so an untouched field is not an edit; a form field is its own
    // isolated paragraph.)
    const text = await page.locator('main').evaluate((m) => {
      const walk = document.createTreeWalker(m, NodeFilter.SHOW_TEXT);
      let out = '';
      for (let n = walk.nextNode(); n; n = walk.nextNode()) if (n.parentElement?.tagName !== 'TEXTAREA') out += n.textContent;
      return out;
    });
    expect(text).not.toContain(RLO);
    expect(text).not.toContain('invoiceexe.pdf');

    // The subject (heading and facts) and the recipient are isolated the same way.
    expect(await page.locator('h1 > bdi').textContent()).toBe('Invoice ⟨U+202E⟩fdp.exe attached');
    expect(await page.locator('dd.subject-line > bdi').textContent()).toBe('Invoice ⟨U+202E⟩fdp.exe attached');
    expect(await page.locator('.recipient > bdi').first().textContent()).toBe('pay⟨U+202E⟩moc.evil@mailgate.test');
    expect(await page.title()).toContain('⟨U+202E⟩');

    // And in the queue.
    await page.goto(`${h.url}queue`);
    const row = page.locator(`tr[data-message="${id}"]`);
    expect(await row.locator('td.subject a > bdi').textContent()).toBe('Invoice ⟨U+202E⟩fdp.exe attached');
    expect(await row.evaluate((tr) => tr.textContent ?? '')).not.toContain(RLO);
  });

  it('other invisible characters in a name are shown too (zero-width space, isolates, tag characters)', async () => {
    const id = await heldWith('report\u200B\u2066.pdf\u2069\u{E0041}.js', 'Report');
    const { page } = await h.newPage(h.tokens.alice);
    await page.goto(`${h.url}messages/${id}`);
    expect(await page.locator('td.filename bdi').textContent()).toBe('report⟨U+200B⟩⟨U+2066⟩.pdf⟨U+2069⟩⟨U+E0041⟩.js');
  });
});
