/**
 * `mailgate doctor [--config FILE] [--db X] [--json]`: one line per check on stdout (or the report as JSON),
 * exit 0 when every check passed and 1 when any failed. It runs before any app exists, because starting the
 * app would create or migrate the database that doctor is meant only to look at.
 */
import { databaseStatus } from '../app.js';
import { loadConfig } from '../config/load.js';
import { invalid } from '../errors.js';
import { runDoctor } from '../services/doctor.js';
import { printJson, printLine } from './output.js';

export interface DoctorFlags {
  config?: string | undefined;
  db?: string | undefined;
  json?: boolean | undefined;
}

/** Long enough for a distant server's greeting, short enough that a dropped port does not stall the run. */
const TIMEOUT_MS = 5000;

export async function doctorCommand(args: string[], flags: DoctorFlags, env: NodeJS.ProcessEnv): Promise<number> {
  if (args.length) {
    throw invalid('doctor', `'mailgate doctor' takes no arguments besides its options (got '${args[0]}')`);
  }
  const report = await runDoctor({
    load: () => loadConfig({ config: flags.config, db: flags.db }, env),
    databaseStatus: (database) => databaseStatus(database, { verify: false }),
    timeoutMs: TIMEOUT_MS,
  });
  if (flags.json) printJson(report);
  else {
    // One line per check; a config problem's source excerpt (line, caret) stays in --json.
    for (const c of report.checks) printLine(`${c.ok ? '✓' : '✗'} ${c.check}: ${c.detail.split('\n')[0]}${c.fix ? `; fix: ${c.fix}` : ''}`);
    printLine(report.ok ? 'all checks passed' : `${report.checks.filter((c) => !c.ok).length} check(s) failed`);
  }
  return report.ok ? 0 : 1;
}
