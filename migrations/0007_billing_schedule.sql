-- 0007_billing_schedule: where each tenant's billing stands, so the scheduler finds
-- the tenants whose period has closed without looking at every tenant, and resumes
-- after a restart exactly where it was (billing.md "Scheduler").
--
-- billing_next_close: the end of the tenant's earliest period that has not been
-- closed yet (billing clock); NULL while the tenant has no anchor. Closing a period
-- (its invoice, or nothing when it cost 0) and moving this forward are one
-- transaction; UNIQUE (tenant, period_start) on invoices still makes a second
-- invoice impossible whatever happens.
ALTER TABLE tenants ADD COLUMN billing_next_close INTEGER;

-- Tenants anchored before this migration: "due now". The tenant actor computes the
-- first period to close from the anchor (the earliest one that ends after this
-- value), so the anchor itself is a safe starting point.
UPDATE tenants SET billing_next_close = billing_anchor WHERE billing_anchor IS NOT NULL;

CREATE INDEX tenants_billing_due ON tenants (billing_next_close) WHERE billing_next_close IS NOT NULL;

-- The scheduler's other work: open invoices that need a (new) bolt11.
CREATE INDEX invoices_open_by_tenant ON invoices (tenant) WHERE status = 'open';
