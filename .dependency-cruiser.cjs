/**
 * The layering of README "How it works" as rules `npm run lint:deps` (part of `npm test`) enforces:
 *
 *   tools/  ->  src/services  ->  src/gate (pure) / src/domain -> src/store / src/mail
 *   src/cli, src/dashboard, src/http  ->  src/services (never the store or the mail adapters)
 *
 * src/domain implements the Store interface once for every backend: the rules (what a submit checks, what a
 * decision may do, what an outcome changes) over the store's SQL primitives, which a driver (src/store/sql) runs.
 *
 * There is no exceptions list: an import that breaks a rule is fixed, or the rule is changed here with its reason.
 *
 * "Type-only" below means an `import type` (dependency-cruiser's `type-only` dependency type): it is erased when
 * TypeScript compiles, so it cannot run code of, or reach data through, the layer it names. Where a rule lets
 * them through, it is so outer layers can name the store's record types (OutboundMessage, Mailbox, ...) that the
 * services hand them, without a copy of each type per layer.
 */
/** Paths as dependency-cruiser sees them, relative to the repository root. */
const layer = (...names) => `^src/(${names.join('|')})/`;
const OUTER = ['cli', 'dashboard', 'http'];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'A cycle of imports that run code makes module load order matter and the layers meaningless; each of the ' +
        'store, services and webhooks had one. Cycles made only of type-only imports are allowed: they are ' +
        'erased at compile time, and src/store/store.ts (the Store interface) names each aggregate\'s record ' +
        'types while the aggregates use its request types.',
      severity: 'error',
      from: { path: '^(src|tools)/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'gate-is-pure',
      comment:
        'src/gate is the security decision: a pure function of its inputs (policy, action, facts, now), tested by ' +
        'tables. It imports only itself and src/values.ts, never the store, mail, services or any outer layer.',
      severity: 'error',
      from: { path: '^src/gate/' },
      to: { path: '^(src|tools)/', pathNot: ['^src/gate/', '^src/values\\.ts$'] },
    },
    {
      name: 'gate-no-io',
      comment:
        'No I/O, clock or ids in the gate. Of Node, it uses hashing (node:crypto: approval binding, loosening ' +
        'state), IDN domain conversion (node:url domainToASCII) and createRequire (node:module, to load the tlds ' +
        'list); of npm, zod schemas and the HTML and link parsers of thread-changes. Nothing else.',
      severity: 'error',
      from: { path: '^src/gate/' },
      to: {
        dependencyTypesNot: ['local', 'type-only'],
        pathNot: ['^(node:)?(crypto|url|module)$', 'node_modules/(zod|htmlparser2|linkify-it)/'],
      },
    },
    {
      name: 'store-below-services',
      comment:
        'The store is all SQL and nothing else: it is called by the services, so it imports no service, mail ' +
        'adapter, MCP, HTTP, dashboard, CLI, presentation or tool code (the gate and src/*.ts helpers are fine).',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: [layer('domain', 'services', 'mail', 'mcp', 'present', ...OUTER), '^tools/', '^src/app\\.ts$'] },
    },
    {
      name: 'domain-below-services',
      comment:
        'src/domain holds the rules every backend shares (issue 13): it calls the gate and the store\'s primitives ' +
        'inside one transaction, and knows no service, mail adapter or interface, so a rule cannot depend on how ' +
        'it was reached.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: [layer('services', 'mail', 'mcp', 'present', 'webhooks', ...OUTER), '^tools/', '^src/app\\.ts$'] },
    },
    {
      name: 'rules-are-backend-neutral',
      comment:
        'The rules run unchanged on SQLite and PostgreSQL: src/domain reaches a database only through the SqlTx ' +
        'seam and the store primitives, never a driver or a database library (the composition root picks the driver). ' +
        'Exempt: open.ts and sqlite-store.ts, which choose and construct the driver, and db-admin.ts and db-copy.ts ' +
        '(`mailgate db`), which look at a database without opening a Store (status must not migrate, a copy target ' +
        'must stay empty), so they open a driver themselves and read the SQLite and PostgreSQL schema versions.',
      severity: 'error',
      from: { path: '^src/domain/', pathNot: '^src/domain/(sqlite-store|open|db-admin|db-copy)\\.ts$' },
      to: { path: ['^src/store/sql/(sqlite|pg)-driver\\.ts$', '^src/store/(db|migrations)\\.ts$', 'node_modules/(better-sqlite3|pg)/'] },
    },
    {
      name: 'store-webhooks-payloads-only',
      comment:
        'A webhook event is written in the transaction of the audit event it reports (README "Webhooks -> ' +
        'Delivery"), so the store calls the pure payload builder (src/webhooks/events.ts) and the endpoint schema ' +
        '(schema.ts); never the dispatcher, which does network I/O.',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^src/webhooks/', pathNot: '^src/webhooks/(events|schema)\\.ts$' },
    },
    {
      name: 'webhook-payloads-are-pure',
      comment:
        'What the store imports from src/webhooks must not import the store back (that made a cycle) or anything ' +
        'with state: payloads, schemas, addresses and signatures are functions of their inputs.',
      severity: 'error',
      from: { path: '^src/webhooks/(events|schema|address|sign)\\.ts$' },
      to: { path: [layer('store', 'services', 'mail', 'mcp', ...OUTER), '^tools/'] },
    },
    {
      name: 'webhooks-below-services',
      comment: 'The webhook dispatcher is a worker beside the delivery worker: helpers both need live below both (src/lease.ts).',
      severity: 'error',
      from: { path: '^src/webhooks/' },
      to: { path: [layer('services', 'mcp', ...OUTER), '^tools/'] },
    },
    {
      name: 'mail-adapters-return-values',
      comment:
        'The mail adapters translate imapflow/nodemailer/mailparser into our values; the services persist. So no ' +
        'store, service or outer layer. Type-only imports of store record types are allowed (a sync delta is made ' +
        'of the rows the services store).',
      severity: 'error',
      from: { path: '^src/mail/' },
      to: {
        path: [layer('store', 'domain', 'services', 'mcp', 'present', ...OUTER), '^tools/', '^src/app\\.ts$'],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'services-below-interfaces',
      comment:
        'Services are the use cases every interface shares (MCP tools, CLI, dashboard, HTTP): they know none of ' +
        'them, so a check made in a service holds on every path.',
      severity: 'error',
      from: { path: '^src/services/' },
      to: { path: [layer('mcp', ...OUTER), '^tools/', '^src/app\\.ts$'] },
    },
    {
      name: 'services-use-the-store-interface',
      comment:
        'Services and workers reach the database through the Store interface (src/store/store.ts), whose ' +
        'operations are each one transaction and which a PostgreSQL backend could implement too; never a store ' +
        'module\'s internals (deliver.ts once imported a check from message-ops.ts: pure checks live in src/gate). ' +
        'Type-only imports of record types are allowed.',
      severity: 'error',
      from: { path: layer('services', 'webhooks') },
      to: { path: ['^src/store/', '^src/domain/'], pathNot: '^src/store/store\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'present-is-pure',
      comment:
        'src/present maps records to what people and agents see; CLI, dashboard and tools share it. Pure: it ' +
        'reads nothing itself (type-only imports of the records it maps are fine).',
      severity: 'error',
      from: { path: '^src/present/' },
      to: { path: '^(src|tools)/', pathNot: ['^src/(present|text)/', '^src/values\\.ts$'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'tools-are-thin',
      comment:
        'A tool declares its schemas and calls one service (STYLE.md "Thin tools"), so it imports services, ' +
        'defineTool, the shared values and error catalogue, the presentation module, pure text checks for input ' +
        '(src/text: attachment names), and the gate\'s value schemas that tools accept (policy settings, ' +
        'auto-approve rules, thread-change kinds). Never the store, the mail adapters or the gate\'s decisions.',
      severity: 'error',
      from: { path: '^tools/' },
      to: {
        path: '^src/',
        pathNot: [
          '^src/(services|present|text)/',
          '^src/mcp/define-tool\\.ts$',
          '^src/(values|errors)\\.ts$',
          '^src/gate/(policy/settings|rules/index|thread-changes)\\.ts$',
        ],
      },
    },
    {
      name: 'tools-use-zod-only',
      comment: 'Of npm, a tool needs zod for its schemas; everything else reaches it through a service.',
      severity: 'error',
      from: { path: '^tools/' },
      to: { dependencyTypesNot: ['local', 'type-only'], pathNot: 'node_modules/zod/' },
    },
    {
      name: 'interfaces-through-services',
      comment:
        'CLI, dashboard and HTTP act through the services, which hold the role and mailbox-scope checks: never ' +
        'the store (a direct call skips them) or a mail adapter. Type-only imports of store record types are ' +
        'allowed: the services return those records.',
      severity: 'error',
      from: { path: layer(...OUTER) },
      to: { path: [layer('store', 'domain', 'mail')], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'tools-only-from-composition-root',
      comment:
        'tools/ is the outermost layer. The one module that may import it is src/mcp/server.ts, the composition ' +
        'root that registers the tool list (tools/index.ts) on an MCP server; everything else (CLI, dashboard) ' +
        'shares code with the tools through src/present or src/services.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/mcp/server\\.ts$' },
      to: { path: '^tools/' },
    },
    {
      name: 'composition-root-from-outside',
      comment:
        'src/app.ts wires store, transports, workers and services together: only the process entry points (the ' +
        'CLI) start it; the layers it wires never import it.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/cli/', '^src/app\\.ts$'] },
      to: { path: '^src/app\\.ts$' },
    },
  ],
  options: {
    // Type-only imports are kept in the graph (as `type-only`), so the rules can tell them apart.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
