/**
 * PostgreSQL migration 3 (SQLite's 7): the gate's and the audit log's vocabularies grow (the GDPR Art. 22 hold,
 * the address book's events), so their CHECK constraints are replaced from the lists in src/values.ts; and the
 * address book (src/store/contacts.ts). Shipped migrations are never edited: a later change is a new one.
 */
import { AUDIT_ACTIONS, GATE_CODES } from '../../values.js';

const list = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

// Every TEXT column is COLLATE "C", as in version 1 (schema-v1.ts says why).
export const MIGRATION_3 = `
ALTER TABLE messages DROP CONSTRAINT messages_gate_code_check;
ALTER TABLE messages ADD CONSTRAINT messages_gate_code_check CHECK (gate_code IN (${list(GATE_CODES)}));
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (action IN (${list(AUDIT_ACTIONS)}));
CREATE TABLE contacts (
  mailbox    TEXT NOT NULL,
  address    TEXT NOT NULL,
  name       TEXT,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (mailbox, address)
);
`.replace(/ TEXT\b/g, ' TEXT COLLATE "C"');
