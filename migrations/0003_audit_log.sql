-- 0003_audit_log: every admin write (api.md: who, what, reason, when), append-only.
-- GET /admin/audit pages by id (creation order).

CREATE TABLE audit_log (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  at           INTEGER NOT NULL,  -- real clock
  admin        TEXT NOT NULL CHECK (length(admin) = 64 AND admin NOT GLOB '*[^0-9a-f]*'),
  action       TEXT NOT NULL CHECK (length(action) >= 1),   -- e.g. 'tenant.suspend', 'invoice.void'
  target_type  TEXT NOT NULL CHECK (length(target_type) >= 1),  -- 'tenant', 'relay', 'invoice', 'clock'
  target_id    TEXT NOT NULL,
  reason       TEXT,
  -- The target before and after the change, as JSON objects (never holding secrets).
  before_json  TEXT CHECK (before_json IS NULL OR json_valid(before_json)),
  after_json   TEXT CHECK (after_json IS NULL OR json_valid(after_json))
) STRICT;

-- The history of one target (admin views of a tenant, relay or invoice).
CREATE INDEX audit_log_by_target ON audit_log (target_type, target_id, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
