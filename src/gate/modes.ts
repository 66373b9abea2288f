/**
 * Mode vocabularies. mailgate stores one oversight_mode plus ordered rules; the other systems' words
 * are accepted as aliases and mapped here, once, so the gate only ever sees the canonical form:
 *
 *   autonomy_level 1 -> gated_send (every send held)
 *   autonomy_level 2 -> gated_send + [known_contact] (first contact held, later sends go)
 *   autonomy_level 3 -> autonomous
 *   approval_mode all -> gated_send, none -> autonomous, smart -> gated_send + auto_approve_rules
 */
import type { OversightMode } from '../values.js';
import type { AutoApproveRule } from './rules/index.js';

export interface ModeInput {
  oversight_mode?: OversightMode | undefined;
  autonomy_level?: 1 | 2 | 3 | undefined;
  approval_mode?: 'all' | 'smart' | 'none' | undefined;
  auto_approve_rules?: readonly AutoApproveRule[] | undefined;
}

export interface ResolvedMode {
  mode: OversightMode;
  rules: AutoApproveRule[];
  /** Which vocabulary the setting came from, kept for display and audit (`autonomy_level=2`). */
  source: string;
}

export type ModeResolution = { ok: true; value: ResolvedMode } | { ok: false; field: string; message: string };

export function resolveMode(input: ModeInput, fallback: OversightMode = 'gated_send'): ModeResolution {
  const given = (['oversight_mode', 'autonomy_level', 'approval_mode'] as const).filter((k) => input[k] !== undefined);
  if (given.length > 1) {
    return { ok: false, field: given[1]!, message: `give only one of oversight_mode, autonomy_level or approval_mode (got ${given.join(' and ')})` };
  }
  const rules = [...(input.auto_approve_rules ?? [])];
  if (input.autonomy_level !== undefined) {
    if (rules.length) return rulesConflict('autonomy_level');
    const level = input.autonomy_level;
    if (level === 1) return ok('gated_send', [], 'autonomy_level=1');
    if (level === 2) return ok('gated_send', [{ type: 'known_contact' }], 'autonomy_level=2');
    return ok('autonomous', [], 'autonomy_level=3');
  }
  if (input.approval_mode !== undefined) {
    if (input.approval_mode === 'smart') return ok('gated_send', rules, 'approval_mode=smart');
    if (rules.length) return rulesConflict(`approval_mode=${input.approval_mode}`);
    return ok(input.approval_mode === 'all' ? 'gated_send' : 'autonomous', [], `approval_mode=${input.approval_mode}`);
  }
  return ok(input.oversight_mode ?? fallback, rules, 'oversight_mode');
}

function ok(mode: OversightMode, rules: AutoApproveRule[], source: string): ModeResolution {
  return { ok: true, value: { mode, rules, source } };
}

function rulesConflict(what: string): ModeResolution {
  return {
    ok: false,
    field: 'auto_approve_rules',
    message: `auto_approve_rules cannot be combined with ${what}; use approval_mode 'smart' or an oversight_mode with rules`,
  };
}

/** Modes from strictest to loosest: a move to a lower index tightens oversight (reliability G6). */
const STRICTNESS: readonly OversightMode[] = ['read_only', 'gated_all', 'gated_send', 'monitored', 'autonomous'];

export function isTightening(from: OversightMode, to: OversightMode): boolean {
  return STRICTNESS.indexOf(to) < STRICTNESS.indexOf(from);
}

/** A mode's place from strictest (0, read_only) to loosest (4, autonomous). */
export function modeRank(mode: OversightMode): number {
  return STRICTNESS.indexOf(mode);
}

export function isLooserMode(from: OversightMode, to: OversightMode): boolean {
  return modeRank(to) > modeRank(from);
}

/**
 * Whether moving from one mode setting to another lets more mail go without a person: a looser mode, or an
 * auto-approve rule that was not there before (each rule is a way past the queue). Removing rules and
 * reordering them never loosens.
 */
export function isLoosening(
  from: { mode: OversightMode; rules: readonly AutoApproveRule[] },
  to: { mode: OversightMode; rules: readonly AutoApproveRule[] },
): boolean {
  if (isLooserMode(from.mode, to.mode)) return true;
  const before = new Set(from.rules.map(sortedJson));
  return to.rules.some((r) => !before.has(sortedJson(r)));
}

// Rules from the file and from a tool may list the same keys in a different order.
function sortedJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`).join(',')}}`;
}
