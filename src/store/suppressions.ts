/** The suppression list: addresses and domains never to be mailed, per mailbox or for all ('*'). */
import { appendAudit } from './audit.js';
import { type Db, stmt } from './db.js';

export interface Suppression {
  scope: string;
  kind: 'address' | 'domain';
  value: string;
  reason: string | null;
  source: 'manual' | 'config' | 'bounce';
  created_at: number;
  created_by: string;
}

/** Adds an entry (a repeat is a no-op that returns false) and audits it. */
export function addSuppression(db: Db, s: Omit<Suppression, 'created_at'>, now: number): boolean {
  const added =
    stmt(
      db,
      `INSERT OR IGNORE INTO suppressions (scope, kind, value, reason, source, created_at, created_by)
                          VALUES (@scope, @kind, @value, @reason, @source, @created_at, @created_by)`,
    ).run({ ...s, created_at: now }).changes === 1;
  if (added) {
    appendAudit(
      db,
      {
        actor: s.created_by,
        action: 'suppression.added',
        mailbox: s.scope === '*' ? null : s.scope,
        detail: { scope: s.scope, kind: s.kind, value: s.value, reason: s.reason, source: s.source },
      },
      now,
    );
  }
  return added;
}

export function removeSuppression(db: Db, q: { scope: string; kind: 'address' | 'domain'; value: string }, actor: string, now: number): boolean {
  const removed = stmt(db, 'DELETE FROM suppressions WHERE scope = @scope AND kind = @kind AND value = @value').run(q).changes === 1;
  if (removed) {
    appendAudit(db, { actor, action: 'suppression.removed', mailbox: q.scope === '*' ? null : q.scope, detail: { ...q } }, now);
  }
  return removed;
}

export function listSuppressions(db: Db, q: { scope?: string | undefined; limit: number }): Suppression[] {
  return stmt(db, `SELECT * FROM suppressions WHERE (@scope IS NULL OR scope = @scope) ORDER BY created_at DESC, value LIMIT @limit`).all({
    scope: q.scope ?? null,
    limit: q.limit,
  }) as Suppression[];
}

/** Makes the config file's entries (source 'config') exactly the given list; manual and bounce entries stay. */
export function syncConfigSuppressions(db: Db, entries: readonly { kind: 'address' | 'domain'; value: string }[], actor: string, now: number): void {
  const wanted = new Set(entries.map((e) => `${e.kind}:${e.value}`));
  for (const row of stmt(db, "SELECT kind, value FROM suppressions WHERE scope = '*' AND source = 'config'").all() as {
    kind: 'address' | 'domain';
    value: string;
  }[]) {
    if (!wanted.has(`${row.kind}:${row.value}`)) removeSuppression(db, { scope: '*', ...row }, actor, now);
  }
  for (const e of entries) addSuppression(db, { scope: '*', ...e, reason: 'config file', source: 'config', created_by: actor }, now);
}
