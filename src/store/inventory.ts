/**
 * What a database holds, in numbers: `mailgate db status` shows them, and `mailgate db copy` compares them on
 * both sides of a copy. Plain SQL both dialects accept, so the same call describes a SQLite file and a
 * PostgreSQL database.
 */
import type { SqlTx } from './sql/types.js';

export interface StoreCounts {
  mailboxes: number;
  /** Outbound messages by status; a status no message has is left out. */
  messages: Record<string, number>;
  audit_events: number;
}

/** The counts a person checks a database (or a copy of one) by. */
export async function storeCounts(q: SqlTx): Promise<StoreCounts> {
  const byStatus = await q.all<{ status: string; n: number }>('SELECT status, COUNT(*) AS n FROM messages GROUP BY status ORDER BY status');
  return {
    mailboxes: Number(await q.value<number>('SELECT COUNT(*) FROM mailboxes')),
    messages: Object.fromEntries(byStatus.map((r) => [r.status, Number(r.n)])),
    audit_events: Number(await q.value<number>('SELECT COUNT(*) FROM audit_events')),
  };
}

/**
 * Rows in each table. The names are ours (a fixed list, or the database's own catalogue), never input, so they
 * are quoted rather than bound: SQL cannot bind a table name.
 */
export async function rowCounts(q: SqlTx, tables: readonly string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const t of tables) counts[t] = Number(await q.value<number>(`SELECT COUNT(*) FROM ${ident(t)}`));
  return counts;
}

/** A double-quoted identifier, which SQLite and PostgreSQL both read. */
export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
