/**
 * The JSON Schemas tools/list shows, converted from each tool's zod shapes once per process instead of on every
 * tools/list (the SDK converts all of them each time: ~6 ms warm for an agent's 16 tools, ~18 ms on a cold start,
 * and every HTTP session lists them again). The shipped bundle goes further: rolldown.config.mjs computes them at
 * build time with this same function and writes them into BUILT, so a cold start converts nothing.
 */
import { toJsonSchemaCompat } from '@modelcontextprotocol/sdk/server/zod-json-schema-compat.js';
import * as z from 'zod';
import type { ToolDef } from './define-tool.js';

export interface ToolJsonSchemas {
  inputSchema: Record<string, unknown>;
  outputSchema: Record<string, unknown>;
}

/** The zod schemas a tool is registered with (src/mcp/server.ts): unknown input keys are refused, not dropped. */
export const inputSchemaOf = (tool: ToolDef) => z.object(tool.input).strict();
export const outputSchemaOf = (tool: ToolDef) => z.object(tool.output);

/** What the SDK's own tools/list does with them (McpServer, SDK 1.32): the same function and options. */
function convert(tool: ToolDef): ToolJsonSchemas {
  return {
    inputSchema: toJsonSchemaCompat(inputSchemaOf(tool), { strictUnions: true, pipeStrategy: 'input' }),
    outputSchema: toJsonSchemaCompat(outputSchemaOf(tool), { strictUnions: true, pipeStrategy: 'output' }),
  };
}

/**
 * The shipped tools' schemas by name: what the bundle writes into BUILT (JSON, so it is parsed rather than
 * evaluated). Called only by rolldown.config.mjs, with tools/index.ts's TOOLS.
 * @public
 */
export function buildToolSchemas(tools: readonly ToolDef[]): string {
  return JSON.stringify(Object.fromEntries(tools.map((t) => [t.name, convert(t)])));
}

/** The bundle replaces this line's `undefined` with buildToolSchemas()'s output, quoted (see rolldown.config.mjs). */
const BUILT = undefined as string | undefined;

let built: Record<string, ToolJsonSchemas> | undefined;
const converted = new WeakMap<ToolDef, ToolJsonSchemas>();

/**
 * The schemas of one tool. Only a shipped tool (one of tools/index.ts's TOOLS, as the caller knows) is looked up in
 * BUILT: a tool defined elsewhere, as in a test, is converted rather than given another's schemas of the same name.
 */
export function toolJsonSchemas(tool: ToolDef, shipped: boolean): ToolJsonSchemas {
  let out = converted.get(tool);
  if (out) return out;
  if (BUILT !== undefined && shipped) {
    built ??= JSON.parse(BUILT) as Record<string, ToolJsonSchemas>;
    out = built[tool.name];
  }
  out ??= convert(tool);
  converted.set(tool, out);
  return out;
}
