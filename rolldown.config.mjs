/**
 * The shipped CLI as a bundle: tsc's dist/src/cli/main.js and everything it imports, in dist/bundle. Node 20 has
 * no compile cache, and its ESM loader spends most of a cold start resolving and compiling ~460 separate files;
 * one entry plus a few chunks answers tools/list in a little over half the time (README "Performance").
 *
 * Every dynamic import() stays a chunk of its own, loaded on first use as before (imapflow, mailparser,
 * nodemailer, the dashboard, the HTTP transports), so the start-up path is still only what tools/list needs;
 * dist/bundle/chunks.json names the packages and source files in each chunk, for the test that checks that.
 * External: Node's built-ins, better-sqlite3 (a native addon), pg (loaded only for PostgreSQL; it probes for the
 * optional pg-native at run time) and pino-pretty (loaded only for a terminal).
 */
import { writeFileSync } from 'node:fs';
import { defineConfig } from 'rolldown';

/** The package a bundled module came from (`zod`, `@modelcontextprotocol/sdk`), or `mailgate` for our own code. */
function packageOf(id) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(id);
  return m ? m[1] : 'mailgate';
}

/** Writes chunks.json: for each chunk file, the packages it holds and our own source files in it. */
const chunkMap = {
  name: 'mailgate-chunk-map',
  writeBundle(options, bundle) {
    const map = {};
    for (const [file, out] of Object.entries(bundle)) {
      if (out.type !== 'chunk') continue;
      const ids = Object.keys(out.modules).filter((id) => !id.startsWith('\0'));
      map[file] = {
        packages: [...new Set(ids.map(packageOf))].sort(),
        sources: ids.filter((id) => packageOf(id) === 'mailgate').map((id) => id.replace(/^.*?\/dist\//, 'dist/')),
      };
    }
    writeFileSync(`${options.dir}/chunks.json`, `${JSON.stringify(map, null, 1)}\n`);
  },
};

/**
 * The SDK's Server imports its default JSON Schema validator (Ajv, ~70 modules evaluated at load) for the case
 * where none is given; every McpServer mailgate builds is given src/mcp/lazy-validator.ts, which requires Ajv on
 * first use. So the default is left out of the bundle: in its place, a class that says why if it is ever built.
 */
const STUB = '\0mailgate:sdk-default-validator';
const sdkDefaultValidator = {
  name: 'mailgate-sdk-default-validator',
  resolveId(source, importer) {
    if (source === '../validation/ajv-provider.js' && importer?.includes('/@modelcontextprotocol/sdk/dist/esm/server/')) return STUB;
    return null;
  },
  load(id) {
    if (id !== STUB) return null;
    return `export class AjvJsonSchemaValidator {
  constructor() { throw new Error('mailgate: pass jsonSchemaValidator: new LazyJsonSchemaValidator() (src/mcp/lazy-validator.ts) to new McpServer'); }
}\n`;
  },
};

export default defineConfig({
  input: { mailgate: 'dist/src/cli/main.js' },
  platform: 'node',
  external: [/^node:/, 'better-sqlite3', 'pg', 'pino-pretty'],
  logLevel: 'warn',
  plugins: [sdkDefaultValidator, chunkMap],
  output: {
    dir: 'dist/bundle',
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: 'chunks/[name]-[hash].js',
    // Chunk names carry a hash: without this, chunks of earlier builds would pile up and be packed.
    cleanDir: true,
  },
});
