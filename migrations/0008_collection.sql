-- 0008_collection: when each open invoice next needs its tenant's actor (billing.md
-- "Collecting", issue 15): an out-of-band payment check (lookup_invoice of every bolt11
-- it had), the end of its grace period, the 48-hour warning before it, the next
-- automatic payment attempt, or an attempt whose outcome is unknown. The tenant actor
-- sets it after every step; the scheduler's due list reads it. Billing clock.
ALTER TABLE invoices ADD COLUMN next_action_at INTEGER;
-- Out-of-band lookups done so far: the spacing starts at PAYMENT_CHECK_SECONDS and
-- doubles up to an hour.
ALTER TABLE invoices ADD COLUMN checks INTEGER NOT NULL DEFAULT 0 CHECK (checks >= 0);

-- Open invoices that already have a bolt11 are looked at by the first pass.
UPDATE invoices SET next_action_at = created_at WHERE status = 'open' AND bolt11 IS NOT NULL;

CREATE INDEX invoices_next_action ON invoices (next_action_at) WHERE status = 'open';
