/**
 * PostgreSQL schema version 1, first part: mailboxes and outbound mail (schema.sql's tables up to
 * message_attachments, in its order). Frozen, like the rest of version 1: see schema-v1.ts, which explains every
 * difference from schema.sql and puts the parts together.
 */
export const V1_OUTBOUND = `
CREATE TABLE mailboxes (
  address             TEXT PRIMARY KEY CHECK (address = lower(address) AND address LIKE '%_@_%'),
  display_name        TEXT,
  oversight_mode      TEXT NOT NULL CHECK (oversight_mode IN ('read_only', 'gated_all', 'gated_send', 'monitored', 'autonomous')),
  mode_source         TEXT NOT NULL,
  auto_approve_rules  TEXT NOT NULL DEFAULT '[]' CHECK (json_typeof(auto_approve_rules::json) = 'array'),
  pending_ttl_seconds BIGINT NOT NULL CHECK (pending_ttl_seconds > 0),
  transport           TEXT NOT NULL CHECK (transport IN ('sandbox', 'imap_smtp')),
  policy              TEXT NOT NULL DEFAULT '{}' CHECK (json_typeof(policy::json) = 'object'),
  created_at          BIGINT NOT NULL,
  updated_at          BIGINT NOT NULL,
  config_digest       TEXT,
  delivery_paused_at     BIGINT,
  delivery_paused_reason TEXT,
  delivery_paused_digest TEXT,
  delivery_failures      BIGINT NOT NULL DEFAULT 0 CHECK (delivery_failures >= 0),
  delivery_held_until    BIGINT
);

CREATE TABLE contact_list_members (
  list    TEXT NOT NULL,
  address TEXT NOT NULL CHECK (address = lower(address)),
  PRIMARY KEY (list, address)
);

CREATE TABLE correspondents (
  mailbox    TEXT NOT NULL REFERENCES mailboxes(address),
  address    TEXT NOT NULL CHECK (address = lower(address)),
  first_seen BIGINT NOT NULL,
  last_seen  BIGINT NOT NULL,
  PRIMARY KEY (mailbox, address)
);
CREATE INDEX correspondents_domain ON correspondents (mailbox, substr(address, strpos(address, '@') + 1));

CREATE TABLE messages (
  message_id          TEXT PRIMARY KEY,
  mailbox             TEXT NOT NULL REFERENCES mailboxes(address),
  kind                TEXT NOT NULL CHECK (kind IN ('send', 'reply')),
  status              TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'queued', 'sending', 'sent', 'failed',
                                                      'outcome_unknown', 'rejected', 'expired', 'cancelled', 'blocked')),
  from_addr           TEXT NOT NULL,
  to_addrs            TEXT NOT NULL CHECK ((to_addrs::json) IS NOT NULL),
  cc_addrs            TEXT NOT NULL CHECK ((cc_addrs::json) IS NOT NULL),
  bcc_addrs           TEXT NOT NULL CHECK ((bcc_addrs::json) IS NOT NULL),
  subject             TEXT NOT NULL,
  text_body           TEXT,
  html_body           TEXT,
  tag_action          TEXT CHECK (tag_action IS NULL OR (tag_action::json) IS NOT NULL),
  reply_to_email_id   TEXT,
  message_id_header   TEXT NOT NULL UNIQUE,
  in_reply_to_header  TEXT,
  references_header   TEXT,
  metadata            TEXT CHECK (metadata IS NULL OR (metadata::json) IS NOT NULL),
  content_hash        TEXT NOT NULL,
  idempotency_key     TEXT,
  created_by          TEXT NOT NULL,
  mode_at_submit      TEXT NOT NULL,
  gate_code           TEXT NOT NULL CHECK (gate_code IN ('mode_allows', 'auto_approved', 'mode_requires_approval',
                                                         'require_approval', 'action_blocked', 'duplicate', 'rate_limited',
                                                         'suppressed_recipient', 'domain_blocked', 'domain_not_allowed',
                                                         'too_many_recipients', 'attachment_limit', 'hold_new_recipient',
                                                         'hold_external_domain', 'hold_secret', 'held_limit')),
  gate_reason         TEXT NOT NULL,
  gate_rule           TEXT,
  notify              BIGINT NOT NULL DEFAULT 0 CHECK (notify IN (0, 1)),
  created_at          BIGINT NOT NULL,
  expires_at          BIGINT,
  decided_at          BIGINT,
  decided_by          TEXT,
  decision_reason     TEXT,
  original_content    TEXT CHECK (original_content IS NULL OR (original_content::json) IS NOT NULL),
  attempts            BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at     BIGINT,
  lease_owner         TEXT,
  lease_until         BIGINT,
  last_error          TEXT,
  transmitting_at     BIGINT,
  smtp_response       TEXT,
  sent_at             BIGINT,
  updated_at          BIGINT NOT NULL,
  policy_hits         TEXT NOT NULL DEFAULT '[]' CHECK ((policy_hits::json) IS NOT NULL),
  approved_hash       TEXT,
  thread_key          TEXT,
  attachments         TEXT NOT NULL DEFAULT '[]' CHECK ((attachments::json) IS NOT NULL),
  pii_salt            TEXT,
  dedupe_hash         TEXT,
  row_seq             BIGINT GENERATED ALWAYS AS IDENTITY,
  CHECK (status <> 'pending' OR (expires_at IS NOT NULL AND decided_at IS NULL))
);

CREATE UNIQUE INDEX messages_idempotency ON messages (mailbox, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX messages_pending ON messages (created_at, message_id) WHERE status = 'pending';
CREATE INDEX messages_pending_mailbox ON messages (mailbox, created_at, message_id) WHERE status = 'pending';
CREATE INDEX messages_pending_expiry ON messages (expires_at) WHERE status = 'pending';
CREATE INDEX messages_claimable ON messages (next_attempt_at) WHERE status IN ('approved', 'queued');
CREATE INDEX messages_sending ON messages (lease_until) WHERE status = 'sending';
CREATE INDEX messages_mailbox ON messages (mailbox, created_at);
CREATE INDEX messages_thread ON messages (thread_key, created_at) WHERE thread_key IS NOT NULL;
CREATE INDEX messages_dedupe ON messages (mailbox, dedupe_hash, created_at) WHERE dedupe_hash IS NOT NULL;
CREATE INDEX messages_rate ON messages (mailbox, created_at) WHERE status <> 'blocked';

CREATE TABLE message_recipients (
  message_id TEXT NOT NULL REFERENCES messages(message_id),
  mailbox    TEXT NOT NULL,
  address    TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (message_id, address)
);
CREATE INDEX message_recipients_window ON message_recipients (mailbox, address, created_at);

CREATE TABLE mailbox_actions (
  action_id        TEXT PRIMARY KEY,
  mailbox          TEXT NOT NULL REFERENCES mailboxes(address),
  email_id         TEXT NOT NULL,
  action           TEXT NOT NULL CHECK ((action::json) IS NOT NULL),
  status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'applied', 'failed', 'rejected', 'expired',
                                                   'cancelled', 'blocked')),
  gate_code        TEXT NOT NULL,
  gate_reason      TEXT NOT NULL,
  gate_rule        TEXT,
  created_by       TEXT NOT NULL,
  created_at       BIGINT NOT NULL,
  expires_at       BIGINT,
  decided_by       TEXT,
  decided_at       BIGINT,
  decision_reason  TEXT,
  lease_owner      TEXT,
  lease_until      BIGINT,
  next_attempt_at  BIGINT,
  attempts         BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error       TEXT,
  applied_at       BIGINT,
  result           TEXT CHECK (result IS NULL OR (result::json) IS NOT NULL),
  updated_at       BIGINT NOT NULL,
  CHECK (status <> 'pending' OR (expires_at IS NOT NULL AND decided_at IS NULL))
);

CREATE INDEX mailbox_actions_pending ON mailbox_actions (mailbox, created_at, action_id) WHERE status = 'pending';
CREATE INDEX mailbox_actions_claimable ON mailbox_actions (next_attempt_at) WHERE status = 'approved';

CREATE TABLE message_attachments (
  message_id   TEXT NOT NULL REFERENCES messages(message_id),
  idx          BIGINT NOT NULL CHECK (idx >= 0),
  filename     TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size         BIGINT NOT NULL CHECK (size >= 0),
  sha256       TEXT NOT NULL,
  content      BYTEA NOT NULL,
  PRIMARY KEY (message_id, idx)
);
`;
