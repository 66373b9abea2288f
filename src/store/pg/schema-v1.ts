/**
 * PostgreSQL schema version 1: schema.sql (SQLite schema 5) translated. Frozen: a later change is a new numbered
 * migration, never an edit here (databases already at version 1 would not see it). test/store/pg-schema.test.ts
 * compares the two schemas, so a change to schema.sql without a PostgreSQL migration fails there.
 * What each table and column is for is in schema.sql's comments; what differs here, and why:
 * - SQLite's INTEGER is 64-bit, so every INTEGER is BIGINT; BLOB is BYTEA; STRICT has no equivalent (typed anyway).
 * - json_valid(x) is `(x::json) IS NOT NULL`: invalid JSON fails the cast (22P02) instead of the CHECK (23514).
 *   JSON stays TEXT, not jsonb, so a value reads back byte for byte (the audit chain hashes what it wrote).
 * - Every TEXT column is COLLATE "C" (added below): comparison, ORDER BY and lower() as SQLite's BINARY, whatever
 *   locale the database was created with.
 * - audit_events.seq is an identity column (AUTOINCREMENT). Unlike SQLite's, a rolled-back insert leaves a gap,
 *   and numbers are handed out in insert order, not commit order: appends to the chain hold its head lock.
 * - messages and emails get row_seq, an identity column, for insertion order (SQLite's rowid; Dialect.insertionOrder).
 * - The FTS5 table emails_fts and its three triggers become emails.search_vector, a stored generated column with a
 *   GIN index (to_tsvector 'simple' over the text with punctuation turned into spaces, so words split where
 *   FTS5's unicode61 splits them and `bob@example.com` is three words; no stemming, as unicode61; diacritics
 *   folded by a fixed table, fold.ts, where unicode61 uses remove_diacritics). Only the first 256 Ki characters of a body are indexed: a tsvector is at most 1 MB, and a longer
 *   body must not make storing the mail fail.
 * - The append-only triggers on audit_events are PL/pgSQL; PostgreSQL's TRUNCATE is refused too.
 * - audit_head (PostgreSQL only) records the chain's newest event, where SQLite's sqlite_sequence counter serves:
 *   verification compares the last event with it, so removing the newest rows shows.
 * - correspondents_domain indexes strpos where SQLite's uses instr (the query spells it the same way).
 */
import { FOLD_FROM, FOLD_TO } from './fold.js';
import { V1_OUTBOUND } from './schema-v1-outbound.js';

const META = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

`;

/** Inbound mail, the IMAP cache, the audit log, tokens, suppressions, webhooks, one-time links and leases. */
const REST = `
CREATE TABLE emails (
  email_id            TEXT PRIMARY KEY,
  mailbox             TEXT NOT NULL REFERENCES mailboxes(address),
  folder              TEXT NOT NULL,
  source              TEXT NOT NULL CHECK (source IN ('sandbox', 'imap')),
  from_addr           TEXT NOT NULL,
  from_name           TEXT,
  to_addrs            TEXT NOT NULL CHECK ((to_addrs::json) IS NOT NULL),
  cc_addrs            TEXT NOT NULL CHECK ((cc_addrs::json) IS NOT NULL),
  subject             TEXT NOT NULL,
  text_body           TEXT,
  html_body           TEXT,
  message_id_header   TEXT,
  in_reply_to_header  TEXT,
  references_header   TEXT,
  flags               TEXT NOT NULL DEFAULT '[]' CHECK ((flags::json) IS NOT NULL),
  unread              BIGINT NOT NULL DEFAULT 1 CHECK (unread IN (0, 1)),
  outbound_message_id TEXT,
  delivery_role       TEXT CHECK (delivery_role IN ('inbox', 'sent')),
  uidvalidity         BIGINT,
  uid                 BIGINT,
  size                BIGINT,
  has_body            BIGINT NOT NULL DEFAULT 1 CHECK (has_body IN (0, 1)),
  attachments         TEXT NOT NULL DEFAULT '[]' CHECK ((attachments::json) IS NOT NULL),
  date                BIGINT NOT NULL,
  received_at         BIGINT NOT NULL,
  row_seq             BIGINT GENERATED ALWAYS AS IDENTITY,
  search_vector       tsvector GENERATED ALWAYS AS (to_tsvector('simple', regexp_replace(translate(
                        subject || ' ' || from_addr || ' ' || coalesce(from_name, '') || ' ' || to_addrs || ' ' ||
                        cc_addrs || ' ' || left(coalesce(text_body, ''), 262144), '${FOLD_FROM}', '${FOLD_TO}'),
                        '[[:punct:]]+', ' ', 'g'))) STORED
);

CREATE INDEX emails_folder ON emails (mailbox, folder, date DESC);
CREATE INDEX emails_in_reply_to ON emails (mailbox, in_reply_to_header);
CREATE UNIQUE INDEX emails_sandbox_once ON emails (mailbox, outbound_message_id, delivery_role) WHERE outbound_message_id IS NOT NULL;
CREATE UNIQUE INDEX emails_imap_uid ON emails (mailbox, folder, uidvalidity, uid) WHERE uid IS NOT NULL;
CREATE INDEX emails_message_id ON emails (mailbox, message_id_header);
CREATE INDEX emails_search ON emails USING gin (search_vector);

CREATE TABLE imap_folders (
  mailbox        TEXT NOT NULL REFERENCES mailboxes(address),
  folder         TEXT NOT NULL,
  uidvalidity    BIGINT NOT NULL,
  uidnext        BIGINT NOT NULL,
  highestmodseq  TEXT,
  messages       BIGINT NOT NULL,
  special_use    TEXT,
  synced_at      BIGINT NOT NULL,
  PRIMARY KEY (mailbox, folder)
);

CREATE TABLE captured_mail (
  message_id  TEXT NOT NULL REFERENCES messages(message_id),
  recipient   TEXT NOT NULL,
  captured_at BIGINT NOT NULL,
  PRIMARY KEY (message_id, recipient)
);

CREATE TABLE audit_events (
  seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id   TEXT NOT NULL UNIQUE,
  at         BIGINT NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL CHECK (action IN (
               'message.submitted', 'message.blocked', 'message.held', 'message.approved', 'message.edited',
               'message.rejected', 'message.cancelled', 'message.expired', 'message.sent',
               'message.retry_scheduled', 'message.failed', 'message.outcome_unknown', 'message.notified',
               'email.tagged', 'email.read', 'mailbox.created', 'mailbox.updated', 'mailbox.mode_changed',
               'message.send_refused', 'message.confirmation_requested', 'message.erased', 'token.created', 'token.revoked',
               'suppression.added', 'suppression.removed', 'webhook.added', 'webhook.removed', 'authz.denied',
               'mailbox.confirmation_requested', 'mailbox.paused', 'mailbox.resumed', 'message.resolved')),
  mailbox    TEXT,
  message_id TEXT,
  email_id   TEXT,
  detail     TEXT NOT NULL CHECK ((detail::json) IS NOT NULL),
  prev_hash  TEXT NOT NULL,
  hash       TEXT NOT NULL
);

-- The chain's newest event, written in the transaction that appends it: a sequence never gives a number back
-- (rollbacks leave gaps), so the newest rows could be deleted unnoticed without this record to compare with.
CREATE TABLE audit_head (
  only_row BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
  seq      BIGINT NOT NULL,
  hash     TEXT NOT NULL
);

CREATE INDEX audit_message ON audit_events (message_id, seq) WHERE message_id IS NOT NULL;
CREATE INDEX audit_mailbox ON audit_events (mailbox, seq) WHERE mailbox IS NOT NULL;

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END
$fn$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

CREATE TABLE tokens (
  token_id     TEXT PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
  roles        TEXT NOT NULL CHECK (json_typeof(roles::json) = 'array' AND json_array_length(roles::json) > 0),
  secret_hash  TEXT NOT NULL UNIQUE,
  created_at   BIGINT NOT NULL,
  created_by   TEXT NOT NULL,
  last_used_at BIGINT,
  revoked_at   BIGINT,
  mailboxes    TEXT CHECK (mailboxes IS NULL OR json_typeof(mailboxes::json) = 'array')
);

CREATE TABLE suppressions (
  scope      TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('address', 'domain')),
  value      TEXT NOT NULL,
  reason     TEXT,
  source     TEXT NOT NULL CHECK (source IN ('manual', 'config', 'bounce')),
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  PRIMARY KEY (scope, kind, value)
);

CREATE TABLE webhook_endpoints (
  endpoint_id TEXT PRIMARY KEY,
  url         TEXT NOT NULL,
  secret      TEXT NOT NULL,
  events      TEXT CHECK (events IS NULL OR json_typeof(events::json) = 'array'),
  mailbox     TEXT,
  source      TEXT NOT NULL CHECK (source IN ('config', 'operator')),
  created_at  BIGINT NOT NULL,
  disabled_at BIGINT,
  allow_private_network BIGINT NOT NULL DEFAULT 0 CHECK (allow_private_network IN (0, 1))
);

CREATE TABLE webhook_events (
  event_id   TEXT PRIMARY KEY,
  type       TEXT NOT NULL,
  mailbox    TEXT,
  message_id TEXT,
  payload    TEXT NOT NULL CHECK ((payload::json) IS NOT NULL),
  created_at BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
  event_id        TEXT NOT NULL REFERENCES webhook_events(event_id),
  endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints(endpoint_id),
  status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts        BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at BIGINT NOT NULL,
  lease_owner     TEXT,
  lease_until     BIGINT,
  last_status     BIGINT,
  last_error      TEXT,
  delivered_at    BIGINT,
  created_at      BIGINT NOT NULL,
  PRIMARY KEY (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE approval_links (
  link_id      TEXT PRIMARY KEY,
  secret_hash  TEXT NOT NULL UNIQUE,
  message_id   TEXT NOT NULL REFERENCES messages(message_id),
  content_hash TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL,
  used_at      BIGINT
);

CREATE TABLE change_links (
  link_id      TEXT PRIMARY KEY,
  secret_hash  TEXT NOT NULL UNIQUE,
  mailbox      TEXT NOT NULL,
  change       TEXT NOT NULL CHECK ((change::json) IS NOT NULL),
  loosens      TEXT NOT NULL CHECK ((loosens::json) IS NOT NULL),
  state_hash   TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL,
  used_at      BIGINT
);

CREATE TABLE leases (
  name       TEXT PRIMARY KEY,
  owner      TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
`;

export const SCHEMA_V1 = (META + V1_OUTBOUND + REST).replace(/ TEXT\b/g, ' TEXT COLLATE "C"');
