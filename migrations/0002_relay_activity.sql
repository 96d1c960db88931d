-- 0002_relay_activity: the append-only log of relay state changes that billing prorates from
-- (billing.md: amounts come from this log, never from a relay's current row alone).
-- One row per change of plan or status, written in the same transaction as the change itself.
-- A relay's state at time t is its latest row with `at` <= t (ties: the higher id wins).

CREATE TABLE relay_activity (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  relay   TEXT NOT NULL REFERENCES relays (id),
  at      INTEGER NOT NULL,  -- on the billing clock
  plan    TEXT NOT NULL CHECK (length(plan) >= 1),
  active  INTEGER NOT NULL CHECK (active IN (0, 1)),
  status  TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'suspended', 'delinquent')),
  -- billing.md: "active" means status active; suspension and delinquency do not count.
  CONSTRAINT active_iff_status_active CHECK (active = (status = 'active'))
) STRICT;

CREATE INDEX relay_activity_by_relay ON relay_activity (relay, at, id);

-- Append-only: history that billed money must not change afterwards.
CREATE TRIGGER relay_activity_no_update BEFORE UPDATE ON relay_activity
BEGIN
  SELECT RAISE(ABORT, 'relay_activity is append-only');
END;

CREATE TRIGGER relay_activity_no_delete BEFORE DELETE ON relay_activity
BEGIN
  SELECT RAISE(ABORT, 'relay_activity is append-only');
END;

-- Relays that exist already (a database created by 0001 alone) start their history now,
-- in their current state.
INSERT INTO relay_activity (relay, at, plan, active, status)
  SELECT id, updated_at, plan, status = 'active', status FROM relays ORDER BY seq;
