-- 0005_notifications: the durable DM outbox (billing.md "Notifications"). A row is
-- written in the same transaction as the change that causes it; its dedupe key
-- makes a second row for the same cause impossible. The gift wrap is built once
-- and stored (wrap_json) BEFORE its first publication, so every retry, also after
-- a crash, re-publishes that very event (same id): relays deduplicate it and the
-- recipient never sees the notice twice.
--
-- States: 'pending' (to publish; next_attempt_at says when), 'sent' (at least one
-- of the recipient's inbox relays accepted the wrap), 'undeliverable' (no kind-10050
-- inbox list found; checked again at next_attempt_at, with backoff, for a week
-- after created_at, then final), 'failed' (no relay accepted it within that week).

CREATE TABLE notifications (
  seq              INTEGER PRIMARY KEY AUTOINCREMENT,
  id               TEXT NOT NULL UNIQUE CHECK (length(id) = 32 AND id NOT GLOB '*[^0-9a-f]*'),
  recipient        TEXT NOT NULL REFERENCES tenants (pubkey),
  -- What caused it, e.g. 'tenant.suspended', 'admin.message', 'invoice.issued'.
  kind             TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
  dedupe_key       TEXT NOT NULL UNIQUE CHECK (length(dedupe_key) BETWEEN 1 AND 200),
  -- The platform's own words to the tenant (not a secret; admins may read it).
  text             TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 10000),
  state            TEXT NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'sent', 'undeliverable', 'failed')),
  -- The kind-1059 gift wrap as published (JSON), and its id.
  wrap_json        TEXT CHECK (wrap_json IS NULL OR json_valid(wrap_json)),
  wrap_id          TEXT CHECK (wrap_id IS NULL OR (length(wrap_id) = 64 AND wrap_id NOT GLOB '*[^0-9a-f]*')),
  attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at  INTEGER,            -- real clock; NULL once final
  last_error       TEXT,
  -- The latest publication's outcome per relay: [{"relay","outcome","message"}].
  relays_json      TEXT CHECK (relays_json IS NULL OR json_valid(relays_json)),
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  sent_at          INTEGER,
  CONSTRAINT wrap_id_with_wrap CHECK ((wrap_json IS NULL) = (wrap_id IS NULL)),
  CONSTRAINT sent_at_iff_sent CHECK ((state = 'sent') = (sent_at IS NOT NULL)),
  CONSTRAINT sent_has_wrap CHECK (state <> 'sent' OR wrap_json IS NOT NULL)
) STRICT;

-- The notifier's work: what is due, soonest first (pending and rechecked
-- undeliverable rows; final rows have no next attempt).
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
-- GET /admin/notifications?tenant=… and ?state=… in creation order.
CREATE INDEX notifications_by_recipient ON notifications (recipient, seq);
CREATE INDEX notifications_by_state ON notifications (state, seq);
