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
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
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
 * Imports of the SDK and of mailparser that mailgate never uses, left out of the bundle, each replaced by a module
 * that says why if it is ever reached:
 * - the server's default JSON Schema validator (Ajv, ~70 modules evaluated at load), for when none is given:
 *   every McpServer mailgate builds is given src/mcp/lazy-validator.ts, which requires Ajv on first use;
 * - zod-to-json-schema (~40 modules), which the SDK uses only for zod 3 schemas: mailgate's are all zod 4,
 *   which the SDK converts with zod's own toJSONSchema;
 * - mailparser's html-to-text (HTML to text) and linkify-it with tlds (links in text turned into HTML): mailgate
 *   parses with skipHtmlToText, skipTextToHtml and skipTextLinks (src/mail/parse.ts MAILPARSER_OPTIONS) and reads
 *   HTML with its own visible-text pass, so neither runs; loading them (linkify-it compiles its patterns for every
 *   top-level domain when mailparser loads) was about half of mailparser's load, paid by the first listing.
 */
const STUBS = [
  {
    source: '../validation/ajv-provider.js',
    importer: '/@modelcontextprotocol/sdk/dist/esm/server/',
    code:
      'export class AjvJsonSchemaValidator {\n' +
      "  constructor() { throw new Error('mailgate: pass jsonSchemaValidator: new LazyJsonSchemaValidator() (src/mcp/lazy-validator.ts) to new McpServer'); }\n" +
      '}\n',
  },
  {
    source: 'zod-to-json-schema',
    importer: '/@modelcontextprotocol/sdk/dist/esm/server/zod-json-schema-compat.js',
    code: "export function zodToJsonSchema() { throw new Error('mailgate: a zod 3 schema reached the SDK; tool schemas must be zod 4'); }\n",
  },
  {
    source: 'html-to-text',
    importer: '/mailparser/lib/mail-parser.js',
    code: "exports.htmlToText = () => { throw new Error('mailgate: mailparser converted HTML to text; parse with MAILPARSER_OPTIONS (src/mail/parse.ts)'); };\n",
  },
  {
    source: 'linkify-it',
    importer: '/mailparser/lib/mail-parser.js',
    // mailparser configures its instance when it loads (tlds, add, set), and uses it only to link text in HTML.
    code:
      'module.exports = () => {\n' +
      "  const fail = () => { throw new Error('mailgate: mailparser linked text; parse with MAILPARSER_OPTIONS (src/mail/parse.ts)'); };\n" +
      '  const linkify = { tlds: () => linkify, add: () => linkify, set: () => linkify, pretest: fail, match: fail };\n' +
      '  return linkify;\n' +
      '};\n',
  },
  { source: 'tlds', importer: '/mailparser/lib/mail-parser.js', code: 'module.exports = [];\n' },
];
const unusedImports = {
  name: 'mailgate-unused-imports',
  resolveId(source, importer) {
    const i = STUBS.findIndex((s) => s.source === source && importer?.includes(s.importer));
    return i < 0 ? null : `\0mailgate-stub:${i}`;
  },
  load(id) {
    return id.startsWith('\0mailgate-stub:') ? STUBS[Number(id.slice('\0mailgate-stub:'.length))].code : null;
  },
};

/**
 * tools/list's JSON Schemas, converted from zod here, once, rather than by every server that starts
 * (src/mcp/tool-schemas.ts): that module's `const BUILT = undefined;` becomes the JSON of buildToolSchemas(),
 * run on the same tsc output the bundle is made from, so the two cannot differ.
 */
const TOOL_SCHEMAS_MARKER = 'const BUILT = undefined;';
const toolSchemas = {
  name: 'mailgate-tool-schemas',
  async transform(code, id) {
    if (!id.endsWith('/dist/src/mcp/tool-schemas.js')) return null;
    if (!code.includes(TOOL_SCHEMAS_MARKER)) this.error(`${id} no longer has '${TOOL_SCHEMAS_MARKER}': update rolldown.config.mjs`);
    const { buildToolSchemas } = await import(pathToFileURL(id).href);
    const { TOOLS } = await import(pathToFileURL(resolve('dist/tools/index.js')).href);
    return code.replace(TOOL_SCHEMAS_MARKER, `const BUILT = ${JSON.stringify(buildToolSchemas(TOOLS))};`);
  },
};

export default defineConfig({
  input: { mailgate: 'dist/src/cli/main.js' },
  platform: 'node',
  external: [/^node:/, 'better-sqlite3', 'pg', 'pino-pretty'],
  logLevel: 'warn',
  plugins: [unusedImports, toolSchemas, chunkMap],
  output: {
    dir: 'dist/bundle',
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: 'chunks/[name]-[hash].js',
    // Chunk names carry a hash: without this, chunks of earlier builds would pile up and be packed.
    cleanDir: true,
  },
});
