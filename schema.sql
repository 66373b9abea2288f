-- mailgate schema: the truth for a fresh database. Later changes are numbered migrations in src/store/migrations.ts.
-- Times are milliseconds since the Unix epoch (UTC). Status and reason vocabularies match src/values.ts.

CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS mailboxes (
  address             TEXT PRIMARY KEY CHECK (address = lower(address) AND address LIKE '%_@_%'),
  display_name        TEXT,
  oversight_mode      TEXT NOT NULL CHECK (oversight_mode IN ('read_only', 'gated_all', 'gated_send', 'monitored', 'autonomous')),
  mode_source         TEXT NOT NULL,
  auto_approve_rules  TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(auto_approve_rules) AND json_type(auto_approve_rules) = 'array'),
  pending_ttl_seconds INTEGER NOT NULL CHECK (pending_ttl_seconds > 0),
  transport           TEXT NOT NULL CHECK (transport IN ('sandbox', 'imap_smtp')),
  -- Per-mailbox policy (src/gate/policy.ts MailboxPolicySettings): limits, domains, content holds, four eyes.
  policy              TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(policy) AND json_type(policy) = 'object'),
  -- Operator-set labels for other systems (values.ts MailboxMetadata); the gate never reads them.
  metadata            TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata) AND json_type(metadata) = 'object'),
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  -- Digest of the config file's entry last applied to this mailbox: the file is applied again only when its
  -- entry changes, so an operator's runtime change is not undone by the next process that starts.
  config_digest       TEXT,
  -- Deliveries paused for a configuration problem (SMTP authentication, TLS): the messages stay queued until
  -- the account's settings differ from the salted digest taken at the pause, or an operator resumes them.
  delivery_paused_at     INTEGER,
  delivery_paused_reason TEXT,
  delivery_paused_digest TEXT,
  -- The breaker: consecutive transient (4xx) failures, and the time before which the mailbox sends nothing.
  delivery_failures      INTEGER NOT NULL DEFAULT 0 CHECK (delivery_failures >= 0),
  delivery_held_until    INTEGER
) STRICT;

-- Named contact lists for the contact_list rule.
CREATE TABLE IF NOT EXISTS contact_list_members (
  list    TEXT NOT NULL,
  address TEXT NOT NULL CHECK (address = lower(address)),
  PRIMARY KEY (list, address)
) STRICT;

-- Who each mailbox has corresponded with (the known_contact rule, autonomy level 2).
CREATE TABLE IF NOT EXISTS correspondents (
  mailbox    TEXT NOT NULL REFERENCES mailboxes(address),
  address    TEXT NOT NULL CHECK (address = lower(address)),
  first_seen INTEGER NOT NULL,
  last_seen  INTEGER NOT NULL,
  PRIMARY KEY (mailbox, address)
) STRICT;
-- The new_external_domain hold asks "has this mailbox written to anyone at this domain?".
CREATE INDEX IF NOT EXISTS correspondents_domain ON correspondents (mailbox, substr(address, instr(address, '@') + 1));

-- Outbound messages: sends and replies (held writes such as tagging an email are in mailbox_actions).
CREATE TABLE IF NOT EXISTS messages (
  message_id          TEXT PRIMARY KEY,
  mailbox             TEXT NOT NULL REFERENCES mailboxes(address),
  kind                TEXT NOT NULL CHECK (kind IN ('send', 'reply')),
  status              TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'queued', 'sending', 'sent', 'failed',
                                                      'outcome_unknown', 'rejected', 'expired', 'cancelled', 'blocked')),
  from_addr           TEXT NOT NULL,
  to_addrs            TEXT NOT NULL CHECK (json_valid(to_addrs)),
  cc_addrs            TEXT NOT NULL CHECK (json_valid(cc_addrs)),
  bcc_addrs           TEXT NOT NULL CHECK (json_valid(bcc_addrs)),
  subject             TEXT NOT NULL,
  text_body           TEXT,
  html_body           TEXT,
  -- Unused since held writes moved to mailbox_actions (kept: SQLite drops a column only by a rebuild).
  tag_action          TEXT CHECK (tag_action IS NULL OR json_valid(tag_action)),
  reply_to_email_id   TEXT,
  message_id_header   TEXT NOT NULL UNIQUE,
  in_reply_to_header  TEXT,
  references_header   TEXT,
  metadata            TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
  content_hash        TEXT NOT NULL,
  idempotency_key     TEXT,
  created_by          TEXT NOT NULL,
  mode_at_submit      TEXT NOT NULL,
  -- The gate's reason code (src/values.ts GATE_CODES): the mode's, or the first policy rule that blocked or held.
  gate_code           TEXT NOT NULL CHECK (gate_code IN ('mode_allows', 'auto_approved', 'mode_requires_approval',
                                                         'require_approval', 'action_blocked', 'duplicate', 'rate_limited',
                                                         'suppressed_recipient', 'domain_blocked', 'domain_not_allowed',
                                                         'too_many_recipients', 'attachment_limit', 'hold_new_recipient',
                                                         'hold_external_domain', 'hold_secret', 'held_limit',
                                                         'hold_automated_decision')),
  gate_reason         TEXT NOT NULL,
  gate_rule           TEXT,
  notify              INTEGER NOT NULL DEFAULT 0 CHECK (notify IN (0, 1)),
  created_at          INTEGER NOT NULL,
  expires_at          INTEGER,
  decided_at          INTEGER,
  decided_by          TEXT,
  decision_reason     TEXT,
  -- The content as first submitted, when a reviewer approved with edits.
  original_content    TEXT CHECK (original_content IS NULL OR json_valid(original_content)),
  attempts            INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at     INTEGER,
  lease_owner         TEXT,
  lease_until         INTEGER,
  last_error          TEXT,
  -- Set just before the final dot of SMTP DATA: a delivery that died before it is safe to retry, one that
  -- died after it may have been accepted and becomes outcome_unknown, never resent automatically.
  transmitting_at     INTEGER,
  smtp_response       TEXT,
  sent_at             INTEGER,
  updated_at          INTEGER NOT NULL,
  -- Every policy rule the draft hit (blocks and holds), for the reviewer and the auditor.
  policy_hits         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(policy_hits)),
  -- The content hash a reviewer (or the gate) approved; the worker refuses to send if the row no longer hashes to it.
  approved_hash       TEXT,
  -- Messages of one thread are delivered in the order they were queued (the root Message-ID of the thread).
  thread_key          TEXT,
  -- Attachment names, types, sizes and sha256 (the bytes are in message_attachments).
  attachments         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(attachments)),
  -- The salt of this message's hashed personal data in the audit chain; erasing the message deletes it.
  pii_salt            TEXT,
  -- The content hash with each recipient list sorted: what duplicate detection compares (order is not news).
  dedupe_hash         TEXT,
  CHECK (status <> 'pending' OR (expires_at IS NOT NULL AND decided_at IS NULL))
) STRICT;

CREATE UNIQUE INDEX IF NOT EXISTS messages_idempotency ON messages (mailbox, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_pending ON messages (created_at, message_id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS messages_pending_mailbox ON messages (mailbox, created_at, message_id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS messages_pending_expiry ON messages (expires_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS messages_claimable ON messages (next_attempt_at) WHERE status IN ('approved', 'queued');
CREATE INDEX IF NOT EXISTS messages_sending ON messages (lease_until) WHERE status = 'sending';
CREATE INDEX IF NOT EXISTS messages_mailbox ON messages (mailbox, created_at);
CREATE INDEX IF NOT EXISTS messages_thread ON messages (thread_key, created_at) WHERE thread_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_dedupe ON messages (mailbox, dedupe_hash, created_at) WHERE dedupe_hash IS NOT NULL;
-- Rate-limit windows count drafts that were not blocked (blocked is final, so rows never move in or out).
CREATE INDEX IF NOT EXISTS messages_rate ON messages (mailbox, created_at) WHERE status <> 'blocked';

-- Who each counted draft was addressed to, so per-recipient rate limits are index lookups, not JSON scans.
CREATE TABLE IF NOT EXISTS message_recipients (
  message_id TEXT NOT NULL REFERENCES messages(message_id),
  mailbox    TEXT NOT NULL,
  address    TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (message_id, address)
) STRICT;
CREATE INDEX IF NOT EXISTS message_recipients_window ON message_recipients (mailbox, address, created_at);

-- Held mailbox actions (tag_email: flags, move, trash). Not outbound messages: no Message-ID, no recipients;
-- "applied" (not "sent") once the worker has done it on the mailbox (src/gate/action-lifecycle.ts).
CREATE TABLE IF NOT EXISTS mailbox_actions (
  action_id        TEXT PRIMARY KEY,
  mailbox          TEXT NOT NULL REFERENCES mailboxes(address),
  email_id         TEXT NOT NULL,
  action           TEXT NOT NULL CHECK (json_valid(action)),
  status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'applied', 'failed', 'rejected', 'expired',
                                                   'cancelled', 'blocked')),
  gate_code        TEXT NOT NULL,
  gate_reason      TEXT NOT NULL,
  gate_rule        TEXT,
  created_by       TEXT NOT NULL,
  created_at       INTEGER NOT NULL,
  expires_at       INTEGER,
  decided_by       TEXT,
  decided_at       INTEGER,
  decision_reason  TEXT,
  lease_owner      TEXT,
  lease_until      INTEGER,
  next_attempt_at  INTEGER,
  attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error       TEXT,
  applied_at       INTEGER,
  result           TEXT CHECK (result IS NULL OR json_valid(result)),
  updated_at       INTEGER NOT NULL,
  CHECK (status <> 'pending' OR (expires_at IS NOT NULL AND decided_at IS NULL))
) STRICT;

CREATE INDEX IF NOT EXISTS mailbox_actions_pending ON mailbox_actions (mailbox, created_at, action_id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS mailbox_actions_claimable ON mailbox_actions (next_attempt_at) WHERE status = 'approved';

-- Attachment bytes of outbound messages, kept apart so listing messages never reads them.
CREATE TABLE IF NOT EXISTS message_attachments (
  message_id   TEXT NOT NULL REFERENCES messages(message_id),
  idx          INTEGER NOT NULL CHECK (idx >= 0),
  filename     TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size         INTEGER NOT NULL CHECK (size >= 0),
  sha256       TEXT NOT NULL,
  content      BLOB NOT NULL,
  PRIMARY KEY (message_id, idx)
) STRICT;

-- Inbound mail: delivered locally by the sandbox transport, or cached from an IMAP folder (source 'imap': the
-- envelope when a sync sees the UID, the body later, has_body = 0 until then).
CREATE TABLE IF NOT EXISTS emails (
  email_id            TEXT PRIMARY KEY,
  mailbox             TEXT NOT NULL REFERENCES mailboxes(address),
  folder              TEXT NOT NULL,
  source              TEXT NOT NULL CHECK (source IN ('sandbox', 'imap')),
  from_addr           TEXT NOT NULL,
  from_name           TEXT,
  to_addrs            TEXT NOT NULL CHECK (json_valid(to_addrs)),
  cc_addrs            TEXT NOT NULL CHECK (json_valid(cc_addrs)),
  subject             TEXT NOT NULL,
  text_body           TEXT,
  html_body           TEXT,
  message_id_header   TEXT,
  in_reply_to_header  TEXT,
  references_header   TEXT,
  flags               TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(flags)),
  unread              INTEGER NOT NULL DEFAULT 1 CHECK (unread IN (0, 1)),
  -- The outbound message that produced this copy (sandbox delivery) and which copy it is, fixed when it is
  -- written: moving or flagging a copy later must not make a redelivery look new (exactly-once delivery).
  outbound_message_id TEXT,
  delivery_role       TEXT CHECK (delivery_role IN ('inbox', 'sent')),
  -- IMAP cache identity (RFC 3501 §2.3.1.1): a UID is only meaningful with its folder's UIDVALIDITY.
  uidvalidity         INTEGER,
  uid                 INTEGER,
  size                INTEGER,
  -- 1 once the full message was fetched and parsed (text_body, attachments are then complete).
  has_body            INTEGER NOT NULL DEFAULT 1 CHECK (has_body IN (0, 1)),
  attachments         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(attachments)),
  date                INTEGER NOT NULL,
  received_at         INTEGER NOT NULL
) STRICT;

CREATE INDEX IF NOT EXISTS emails_folder ON emails (mailbox, folder, date DESC);
CREATE INDEX IF NOT EXISTS emails_in_reply_to ON emails (mailbox, in_reply_to_header);
CREATE UNIQUE INDEX IF NOT EXISTS emails_sandbox_once ON emails (mailbox, outbound_message_id, delivery_role) WHERE outbound_message_id IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS emails_imap_uid ON emails (mailbox, folder, uidvalidity, uid) WHERE uid IS NOT NULL;
CREATE INDEX IF NOT EXISTS emails_message_id ON emails (mailbox, message_id_header);
-- The body prefetch's work list (envelopes whose bodies are not fetched yet): a scan of every cached row otherwise.
CREATE INDEX IF NOT EXISTS emails_unfetched ON emails (mailbox, folder, uid) WHERE has_body = 0 AND uid IS NOT NULL;

-- Full-text index over what has been synced (external content: the text lives in emails).
CREATE VIRTUAL TABLE IF NOT EXISTS emails_fts USING fts5(
  subject, from_addr, from_name, to_addrs, cc_addrs, text_body,
  content = 'emails', content_rowid = 'rowid', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS emails_fts_insert AFTER INSERT ON emails BEGIN
  INSERT INTO emails_fts (rowid, subject, from_addr, from_name, to_addrs, cc_addrs, text_body)
  VALUES (new.rowid, new.subject, new.from_addr, new.from_name, new.to_addrs, new.cc_addrs, new.text_body);
END;
CREATE TRIGGER IF NOT EXISTS emails_fts_delete AFTER DELETE ON emails BEGIN
  INSERT INTO emails_fts (emails_fts, rowid, subject, from_addr, from_name, to_addrs, cc_addrs, text_body)
  VALUES ('delete', old.rowid, old.subject, old.from_addr, old.from_name, old.to_addrs, old.cc_addrs, old.text_body);
END;
CREATE TRIGGER IF NOT EXISTS emails_fts_update AFTER UPDATE OF subject, from_addr, from_name, to_addrs, cc_addrs, text_body ON emails BEGIN
  INSERT INTO emails_fts (emails_fts, rowid, subject, from_addr, from_name, to_addrs, cc_addrs, text_body)
  VALUES ('delete', old.rowid, old.subject, old.from_addr, old.from_name, old.to_addrs, old.cc_addrs, old.text_body);
  INSERT INTO emails_fts (rowid, subject, from_addr, from_name, to_addrs, cc_addrs, text_body)
  VALUES (new.rowid, new.subject, new.from_addr, new.from_name, new.to_addrs, new.cc_addrs, new.text_body);
END;

-- IMAP sync state per folder: where the last sync stopped, so a repeat sync fetches only what changed
-- (UIDNEXT for new mail, HIGHESTMODSEQ for flag changes where the server has CONDSTORE, RFC 7162).
CREATE TABLE IF NOT EXISTS imap_folders (
  mailbox        TEXT NOT NULL REFERENCES mailboxes(address),
  folder         TEXT NOT NULL,
  uidvalidity    INTEGER NOT NULL,
  uidnext        INTEGER NOT NULL,
  highestmodseq  TEXT,
  messages       INTEGER NOT NULL,
  special_use    TEXT,
  synced_at      INTEGER NOT NULL,
  -- Older envelopes than this UID are still being backfilled (NULL: the whole folder is cached).
  backfill_below INTEGER,
  PRIMARY KEY (mailbox, folder)
) STRICT;

-- Sandbox mail to addresses outside the sandbox: captured here, never sent anywhere.
CREATE TABLE IF NOT EXISTS captured_mail (
  message_id  TEXT NOT NULL REFERENCES messages(message_id),
  recipient   TEXT NOT NULL,
  captured_at INTEGER NOT NULL,
  PRIMARY KEY (message_id, recipient)
) STRICT;

-- The audit log: append-only (the triggers below refuse UPDATE and DELETE) and hash-chained:
-- hash = sha256(prev_hash || canonical JSON of the event), so a changed, removed or reordered row is detectable.
CREATE TABLE IF NOT EXISTS audit_events (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id   TEXT NOT NULL UNIQUE,
  at         INTEGER NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL CHECK (action IN (
               'message.submitted', 'message.blocked', 'message.held', 'message.approved', 'message.edited',
               'message.rejected', 'message.cancelled', 'message.expired', 'message.sent',
               'message.retry_scheduled', 'message.failed', 'message.outcome_unknown', 'message.notified',
               'email.tagged', 'email.read', 'mailbox.created', 'mailbox.updated', 'mailbox.mode_changed',
               'message.send_refused', 'message.confirmation_requested', 'message.erased', 'token.created', 'token.revoked',
               'suppression.added', 'suppression.removed', 'webhook.added', 'webhook.removed', 'authz.denied',
               'mailbox.confirmation_requested', 'mailbox.paused', 'mailbox.resumed', 'message.resolved',
               'contact.added', 'contact.removed')),
  mailbox    TEXT,
  message_id TEXT,
  email_id   TEXT,
  detail     TEXT NOT NULL CHECK (json_valid(detail)),
  prev_hash  TEXT NOT NULL,
  hash       TEXT NOT NULL
) STRICT;

CREATE INDEX IF NOT EXISTS audit_message ON audit_events (message_id, seq) WHERE message_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_mailbox ON audit_events (mailbox, seq) WHERE mailbox IS NOT NULL;

CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;

CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;

-- Bearer tokens for principals (agent, reviewer, operator). Only a sha256 of the token is kept.
CREATE TABLE IF NOT EXISTS tokens (
  token_id     TEXT PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
  roles        TEXT NOT NULL CHECK (json_valid(roles) AND json_type(roles) = 'array' AND json_array_length(roles) > 0),
  secret_hash  TEXT NOT NULL UNIQUE,
  created_at   INTEGER NOT NULL,
  created_by   TEXT NOT NULL,
  last_used_at INTEGER,
  revoked_at   INTEGER,
  -- The mailboxes the token may act on (a JSON array of addresses); NULL means every mailbox, which only an
  -- explicit --all-mailboxes (or a token made before binding existed) gives.
  mailboxes    TEXT CHECK (mailboxes IS NULL OR (json_valid(mailboxes) AND json_type(mailboxes) = 'array'))
) STRICT;

-- Addresses and domains that must never be mailed: by hand, from config, or from a hard bounce.
-- scope is a mailbox address or '*' for every mailbox; value is canonical (src/gate/canonical.ts).
CREATE TABLE IF NOT EXISTS suppressions (
  scope      TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('address', 'domain')),
  value      TEXT NOT NULL,
  reason     TEXT,
  source     TEXT NOT NULL CHECK (source IN ('manual', 'config', 'bounce')),
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  PRIMARY KEY (scope, kind, value)
) STRICT;

-- A mailbox's address book (manage_contacts): the agent's own names for people. Not the operator's contact lists
-- (config contact_lists), which auto-approve rules read: an agent must not widen its own auto-approval.
CREATE TABLE IF NOT EXISTS contacts (
  mailbox    TEXT NOT NULL,
  address    TEXT NOT NULL,
  name       TEXT,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (mailbox, address)
) STRICT;

-- Webhook endpoints: from the config file (source 'config', re-synced at start) or added by an operator.
CREATE TABLE IF NOT EXISTS webhook_endpoints (
  endpoint_id TEXT PRIMARY KEY,
  url         TEXT NOT NULL,
  -- The Standard Webhooks secret (whsec_...): needed to sign, so it is kept; never logged, audited or returned.
  secret      TEXT NOT NULL,
  events      TEXT CHECK (events IS NULL OR (json_valid(events) AND json_type(events) = 'array')),
  mailbox     TEXT,
  source      TEXT NOT NULL CHECK (source IN ('config', 'operator')),
  created_at  INTEGER NOT NULL,
  disabled_at INTEGER,
  -- 1 lets the URL resolve to loopback or private addresses (a receiver beside mailgate); refused otherwise.
  allow_private_network INTEGER NOT NULL DEFAULT 0 CHECK (allow_private_network IN (0, 1))
) STRICT;

-- The webhook outbox: one row per event (written in the transaction of the audit event it reports) ...
CREATE TABLE IF NOT EXISTS webhook_events (
  event_id   TEXT PRIMARY KEY,
  type       TEXT NOT NULL,
  mailbox    TEXT,
  message_id TEXT,
  payload    TEXT NOT NULL CHECK (json_valid(payload)),
  created_at INTEGER NOT NULL
) STRICT;

-- ... and one row per (event, endpoint) to deliver, retried with backoff until delivered or given up.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  event_id        TEXT NOT NULL REFERENCES webhook_events(event_id),
  endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints(endpoint_id),
  status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at INTEGER NOT NULL,
  lease_owner     TEXT,
  lease_until     INTEGER,
  last_status     INTEGER,
  last_error      TEXT,
  delivered_at    INTEGER,
  created_at      INTEGER NOT NULL,
  PRIMARY KEY (event_id, endpoint_id)
) STRICT;
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

-- One-time approval links (human confirmation of an approval asked for through MCP). Only a hash of the link
-- secret is kept; a link approves exactly the content hash it was made for, once, before it expires.
CREATE TABLE IF NOT EXISTS approval_links (
  link_id      TEXT PRIMARY KEY,
  secret_hash  TEXT NOT NULL UNIQUE,
  message_id   TEXT NOT NULL REFERENCES messages(message_id),
  content_hash TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  used_at      INTEGER
) STRICT;

-- One-time links a person opens to confirm a change that loosens a mailbox, asked for by a session that can
-- also draft mail. Only a hash of the secret is kept; a link applies exactly the change stored with it, once,
-- before it expires, and only while the mailbox is in the state (state_hash) it was asked against.
CREATE TABLE IF NOT EXISTS change_links (
  link_id      TEXT PRIMARY KEY,
  secret_hash  TEXT NOT NULL UNIQUE,
  mailbox      TEXT NOT NULL,
  change       TEXT NOT NULL CHECK (json_valid(change)),
  loosens      TEXT NOT NULL CHECK (json_valid(loosens)),
  state_hash   TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  used_at      INTEGER
) STRICT;

-- Named leases on work one instance does for the fleet (an IMAP IDLE watcher per mailbox: 'imap-watch:ADDRESS').
-- Taken and renewed by compare-and-set (free, expired or already the owner's: src/store/leases.ts); a holder that
-- dies stops renewing, and another instance takes over once expires_at passes. Not audited: it records who is
-- doing the work, not anything that happened.
CREATE TABLE IF NOT EXISTS leases (
  name       TEXT PRIMARY KEY,
  owner      TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
