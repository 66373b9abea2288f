/** The suppression list: addresses and domains never to be mailed, per mailbox or for all ('*'). */
import { appendAudit } from './audit.js';
import type { SqlTx } from './sql/types.js';

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
export async function addSuppression(q: SqlTx, s: Omit<Suppression, 'created_at'>, now: number): Promise<boolean> {
  const added =
    (
      await q.run(
        `INSERT INTO suppressions (scope, kind, value, reason, source, created_at, created_by)
                          VALUES (@scope, @kind, @value, @reason, @source, @created_at, @created_by) ON CONFLICT DO NOTHING`,
        { ...s, created_at: now },
      )
    ).changes === 1;
  if (added) {
    await appendAudit(
      q,
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

export async function removeSuppression(
  q: SqlTx,
  key: { scope: string; kind: 'address' | 'domain'; value: string },
  actor: string,
  now: number,
): Promise<boolean> {
  const removed = (await q.run('DELETE FROM suppressions WHERE scope = @scope AND kind = @kind AND value = @value', key)).changes === 1;
  if (removed) {
    await appendAudit(q, { actor, action: 'suppression.removed', mailbox: key.scope === '*' ? null : key.scope, detail: { ...key } }, now);
  }
  return removed;
}

export function listSuppressions(q: SqlTx, query: { scope?: string | undefined; limit: number }): Promise<Suppression[]> {
  return q.all<Suppression>(`SELECT * FROM suppressions WHERE (@scope IS NULL OR scope = @scope) ORDER BY created_at DESC, value LIMIT @limit`, {
    scope: query.scope ?? null,
    limit: query.limit,
  });
}

/** Makes the config file's entries (source 'config') exactly the given list; manual and bounce entries stay. */
export async function syncConfigSuppressions(
  q: SqlTx,
  entries: readonly { kind: 'address' | 'domain'; value: string }[],
  actor: string,
  now: number,
): Promise<void> {
  const wanted = new Set(entries.map((e) => `${e.kind}:${e.value}`));
  for (const row of await q.all<{ kind: 'address' | 'domain'; value: string }>(
    "SELECT kind, value FROM suppressions WHERE scope = '*' AND source = 'config'",
  )) {
    if (!wanted.has(`${row.kind}:${row.value}`)) await removeSuppression(q, { scope: '*', ...row }, actor, now);
  }
  for (const e of entries) await addSuppression(q, { scope: '*', ...e, reason: 'config file', source: 'config', created_by: actor }, now);
}
