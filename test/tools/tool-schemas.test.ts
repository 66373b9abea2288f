/**
 * src/mcp/tool-schemas.ts converts each tool's zod shapes once per process, with the SDK's own function and
 * options (test/docs/readme.test.ts and test/e2e/bundle-tools-list.test.ts hold the whole tools/list answer).
 */
import { toJsonSchemaCompat } from '@modelcontextprotocol/sdk/server/zod-json-schema-compat.js';
import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import type { ToolDef } from '../../src/mcp/define-tool.js';
import { inputSchemaOf, toolJsonSchemas } from '../../src/mcp/tool-schemas.js';
import { TOOLS } from '../../tools/index.js';

describe('toolJsonSchemas', () => {
  it('converts a tool once and hands out the same schemas after that', () => {
    const tool = TOOLS.find((t) => t.name === 'check_inbox')!;
    const first = toolJsonSchemas(tool, true);
    expect(toolJsonSchemas(tool, true)).toBe(first);
    expect(first.inputSchema).toEqual(toJsonSchemaCompat(inputSchemaOf(tool), { strictUnions: true, pipeStrategy: 'input' }));
  });

  it('gives a tool that is not one of TOOLS its own schemas, even under a shipped tool name', () => {
    const other: ToolDef = {
      name: 'check_inbox',
      title: 'A test tool',
      description: 'Not the real one',
      access: 'read',
      input: { only_field: z.string() },
      output: { ok: z.boolean() },
      handler: async () => ({ ok: true }),
    };
    const { inputSchema, outputSchema } = toolJsonSchemas(other, false);
    expect(Object.keys(inputSchema.properties as object)).toEqual(['only_field']);
    expect(inputSchema.additionalProperties).toBe(false);
    expect(Object.keys(outputSchema.properties as object)).toEqual(['ok']);
  });
});
