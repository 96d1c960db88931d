-- 0006_billing_clock: the offset of the billing test clock (api.md "Test clock",
-- BILLING_TEST_CLOCK=1), so a moved clock survives restarts and kill -9. One row;
-- the offset only grows (the clock never goes backwards), enforced here too.

CREATE TABLE billing_clock (
  id              INTEGER PRIMARY KEY CHECK (id = 1),
  offset_seconds  INTEGER NOT NULL CHECK (offset_seconds >= 0),
  updated_at      INTEGER NOT NULL  -- real clock
) STRICT;

CREATE TRIGGER billing_clock_never_back BEFORE UPDATE ON billing_clock
WHEN NEW.offset_seconds < OLD.offset_seconds
BEGIN
  SELECT RAISE(ABORT, 'the billing clock never goes backwards');
END;
