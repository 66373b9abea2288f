/**
 * server.json is what the MCP Registry lists; it must say what package.json and the code say: the same name
 * (package.json's mcpName), version and description, the npm package it launches over stdio, and exactly the
 * MAILGATE_* environment variables the code reads (grepped from src/ and tools/ here, so a new one cannot be
 * forgotten and a removed one cannot linger).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown> & { name: string; version: string; description: string };
const server = JSON.parse(readFileSync(join(root, 'server.json'), 'utf8')) as {
  $schema: string;
  name: string;
  version: string;
  description: string;
  repository?: { url: string };
  packages: {
    registryType: string;
    identifier: string;
    version: string;
    transport: { type: string };
    environmentVariables: { name: string; isSecret?: boolean }[];
  }[];
};

/** A test hook (fault injection for the crash tests), not something a user sets. */
const NOT_FOR_USERS = new Set(['MAILGATE_FAULT_POINT']);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Names read from the environment: `env.NAME`, or a string literal starting with the name (envMs(env, 'NAME')). */
function variablesTheCodeReads(): Set<string> {
  const found = new Set<string>();
  for (const file of [...sources(join(root, 'src')), ...sources(join(root, 'tools'))]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:\benv\.|['"`])(MAILGATE_[A-Z0-9_]*[A-Z0-9])\b/g)) found.add(m[1]!);
  }
  for (const name of NOT_FOR_USERS) found.delete(name);
  return found;
}

describe('server.json (MCP Registry)', () => {
  it('uses the 2025-09-29 schema and matches package.json', () => {
    expect(server.$schema).toBe('https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json');
    expect(server.name).toBe(pkg.mcpName);
    expect(server.version).toBe(pkg.version);
    expect(server.description).toBe(pkg.description);
    expect(server.description.length).toBeLessThanOrEqual(100); // the registry schema's limit
    expect(server.repository?.url).toBe((pkg.homepage as string).replace(/#readme$/, ''));
  });

  it('launches the npm package of this version over stdio', () => {
    expect(server.packages).toHaveLength(1);
    const p = server.packages[0]!;
    expect(p).toMatchObject({ registryType: 'npm', identifier: pkg.name, version: pkg.version, transport: { type: 'stdio' } });
    expect((pkg.bin as Record<string, string>)[pkg.name]).toBeDefined(); // what `npx -y mailgate` runs
  });

  it('lists exactly the MAILGATE_* variables the code reads, the token as a secret', () => {
    const listed = server.packages[0]!.environmentVariables;
    const read = variablesTheCodeReads();
    // The grep must see the obvious ones, or it has stopped working.
    for (const name of ['MAILGATE_TOKEN', 'MAILGATE_CONFIG', 'MAILGATE_DB', 'MAILGATE_LOG_LEVEL']) expect(read).toContain(name);
    expect(listed.map((v) => v.name).sort()).toEqual([...read].sort());
    expect(listed.find((v) => v.name === 'MAILGATE_TOKEN')?.isSecret).toBe(true);
  });
});
