/**
 * Docs run: README's "Webhooks" section against the code. Its config example is accepted by the config schema,
 * its events table is the list the code sends, its payload example has the fields a real one has, and its
 * retry schedule is the dispatcher's. The payload carries the agent's send_email metadata.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Config } from '../../src/config/schema.js';
import { sendEmail } from '../../src/services/send.js';
import { RETRY_SCHEDULE } from '../../src/webhooks/dispatcher.js';
import { WEBHOOK_EVENT_TYPES, buildPayload } from '../../src/webhooks/events.js';
import { AGENT, GATED, type TestApp, startApp } from './helpers.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Webhooks'), readme.indexOf('\n## ', readme.indexOf('## Webhooks') + 5));
const jsonBlocks = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as Record<string, any>);

let t: TestApp;
beforeAll(async () => {
  t = await startApp([]);
});
afterAll(async () => {
  await t.close();
});

describe('README Webhooks section', () => {
  it('has a config example the config schema accepts', () => {
    const r = Config.safeParse(jsonBlocks[0]);
    expect(r.success, JSON.stringify(r.error?.issues)).toBe(true);
    expect(r.data!.webhooks).toHaveLength(2);
  });

  it('lists exactly the event types mailgate sends', () => {
    const table = section.slice(section.indexOf('### Events'), section.indexOf('### Verifying'));
    const listed = [...table.matchAll(/^\| `([a-z_.]+)` \|/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual([...WEBHOOK_EVENT_TYPES].sort());
  });

  it('shows a payload with the fields a real email.pending payload has', async () => {
    const example = jsonBlocks[1]!;
    const metadata = { ticket: 'T-4821' };
    const { message_id } = await sendEmail(t.app, AGENT, { mailbox: GATED, to: ['customer@example.com'], subject: 'Your refund', text: 'x', metadata });
    const m = (await t.app.store.getMessage(message_id))!;
    const real = buildPayload('email.pending', { at: Date.now(), actor: AGENT.id, mailbox: GATED, message_id, detail: {} }, m);
    expect(Object.keys(example).sort()).toEqual(Object.keys(real).sort());
    expect(Object.keys(example.data).sort()).toEqual(Object.keys(real.data).sort());
    expect(example.data.gate.reason).toBe(real.data.gate && (real.data.gate as { reason: string }).reason);
    // The agent's metadata travels with the event, as the example shows it.
    expect(real.data.metadata).toEqual(metadata);
    expect(example.data.metadata).toEqual(metadata);
  });

  it('states the retry schedule the dispatcher uses', () => {
    const human = (s: number) => (s >= 3600 ? `${s / 3600} h` : s >= 60 ? `${s / 60} min` : `${s} s`);
    const steps = RETRY_SCHEDULE.map((k) => human(k * 5));
    expect(section).toContain(`after ${steps.slice(0, -1).join(', ')} and ${steps.at(-1)}`);
  });
});
