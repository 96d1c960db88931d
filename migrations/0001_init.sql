-- 0001_init: tenants, relays, invoices and their items.
--
-- Conventions for every table of relayhost:
-- * STRICT tables (SQLite >= 3.37): a value of the wrong type is an error, not a silent coercion.
-- * Times are unix seconds (INTEGER); amounts are whole sats (INTEGER); booleans are 0/1.
-- * Creation order (the API's stable pagination order) is `seq`, an INTEGER PRIMARY KEY
--   AUTOINCREMENT: it aliases the rowid, so it is never reused and VACUUM never renumbers it
--   (it would renumber an implicit rowid). The domain identity (pubkey, relay id, invoice id)
--   is a TEXT NOT NULL UNIQUE column, and foreign keys reference it.
-- * Status-like columns are CHECKed against their exact vocabulary, so a typo in code fails the
--   write instead of storing a state nothing else understands.
-- * Secrets (relay keys, NWC URLs) are stored only encrypted (`*_enc` BLOBs); the database never
--   holds them in clear text.

CREATE TABLE tenants (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  pubkey          TEXT NOT NULL UNIQUE
                  CHECK (length(pubkey) = 64 AND pubkey NOT GLOB '*[^0-9a-f]*'),
  status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  -- The admin's reason; present exactly while suspended (history is in audit_log).
  suspend_reason  TEXT,
  suspended_at    INTEGER,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  -- Billing (billing.md). The NWC URL holds the wallet secret: encrypted at rest, never returned.
  nwc_url_enc     BLOB,
  wallet_pubkey   TEXT CHECK (wallet_pubkey IS NULL
                              OR (length(wallet_pubkey) = 64 AND wallet_pubkey NOT GLOB '*[^0-9a-f]*')),
  nwc_status      TEXT CHECK (nwc_status IS NULL OR nwc_status IN ('ok', 'unverified')
                              OR nwc_status GLOB 'error: *'),
  -- Set the first time one of the tenant's relays is active on a paid plan; periods count from it.
  billing_anchor  INTEGER,
  CONSTRAINT suspend_reason_iff_suspended CHECK ((status = 'suspended') = (suspend_reason IS NOT NULL)),
  CONSTRAINT suspended_at_only_when_suspended CHECK (status = 'suspended' OR suspended_at IS NULL),
  CONSTRAINT wallet_fields_need_nwc CHECK (nwc_url_enc IS NOT NULL OR (wallet_pubkey IS NULL AND nwc_status IS NULL))
) STRICT;

-- GET /admin/tenants?status=… in creation order.
CREATE INDEX tenants_by_status ON tenants (status, seq);

CREATE TABLE relays (
  seq                     INTEGER PRIMARY KEY AUTOINCREMENT,
  id                      TEXT NOT NULL UNIQUE CHECK (length(id) BETWEEN 1 AND 64),
  tenant                  TEXT NOT NULL REFERENCES tenants (pubkey),
  -- api.md: a DNS label of 3–63 chars of a-z 0-9 -, starting with a letter, not ending with '-'.
  -- The reserved names are configuration (RESERVED_SUBDOMAINS) and checked by the application.
  -- UNIQUE across all relays, active or not: a subdomain is never reused.
  subdomain               TEXT NOT NULL UNIQUE
                          CONSTRAINT subdomain_is_dns_label CHECK (length(subdomain) BETWEEN 3 AND 63
                                 AND subdomain GLOB '[a-z]*'
                                 AND subdomain NOT GLOB '*[^a-z0-9-]*'
                                 AND subdomain NOT GLOB '*-'),
  -- length() counts characters of TEXT, as api.md's limits do.
  name                    TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  description             TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 500),
  icon                    TEXT CHECK (icon IS NULL OR (icon GLOB 'https://*' AND length(icon) <= 500)),
  -- Plan ids come from the PLANS catalog (configuration); startup checks every stored plan exists.
  plan                    TEXT NOT NULL CHECK (length(plan) >= 1),
  policy_public_join      INTEGER NOT NULL DEFAULT 0 CHECK (policy_public_join IN (0, 1)),
  policy_strip_signatures INTEGER NOT NULL DEFAULT 0 CHECK (policy_strip_signatures IN (0, 1)),
  status                  TEXT NOT NULL DEFAULT 'active'
                          CHECK (status IN ('active', 'inactive', 'suspended', 'delinquent')),
  -- Who suspended a 'suspended' relay: 'tenant' = the tenant's suspension (lifting it restores the
  -- relay), 'admin' = this relay was suspended on its own (lifting the tenant's leaves it).
  suspended_by            TEXT CHECK (suspended_by IN ('tenant', 'admin')),
  suspend_reason          TEXT,
  -- The relay's own Nostr secret key, generated once at creation, encrypted at rest.
  secret_enc              BLOB NOT NULL,
  sync_state              TEXT NOT NULL DEFAULT 'pending'
                          CHECK (sync_state IN ('pending', 'synced', 'failed')),
  sync_error              TEXT,
  sync_attempts           INTEGER NOT NULL DEFAULT 0 CHECK (sync_attempts >= 0),
  sync_last_attempt_at    INTEGER,
  created_at              INTEGER NOT NULL,
  updated_at              INTEGER NOT NULL,
  CONSTRAINT suspended_by_only_when_suspended CHECK (suspended_by IS NULL OR status = 'suspended')
) STRICT;

-- GET /tenant/relays and a tenant actor's load, in creation order.
CREATE INDEX relays_by_tenant ON relays (tenant, seq);
-- GET /admin/relays?status=… in creation order.
CREATE INDEX relays_by_status ON relays (status, seq);
-- Startup reconciliation: every relay not synced with zooid (a small set, hence partial).
CREATE INDEX relays_not_synced ON relays (seq) WHERE sync_state <> 'synced';

CREATE TABLE invoices (
  seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
  id                  TEXT NOT NULL UNIQUE CHECK (length(id) BETWEEN 1 AND 64),
  tenant              TEXT NOT NULL REFERENCES tenants (pubkey),
  status              TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'void')),
  amount_sats         INTEGER NOT NULL CHECK (amount_sats >= 0),
  period_start        INTEGER NOT NULL,
  period_end          INTEGER NOT NULL,
  created_at          INTEGER NOT NULL,
  due_at              INTEGER NOT NULL,  -- end of the grace period
  paid_at             INTEGER,
  -- 'lightning': proven by the platform wallet; 'admin': PUT /admin/invoices/:id {"status":"paid"}.
  paid_via            TEXT CHECK (paid_via IN ('lightning', 'admin')),
  voided_at           INTEGER,
  status_reason       TEXT,  -- the admin's reason for 'void' or a manual 'paid'
  -- The current bolt11 (NULL until the platform wallet has issued one). Every bolt11 ever issued
  -- for the invoice is also in invoice_payment_hashes, since an old one may still be paid.
  bolt11              TEXT,
  payment_hash        TEXT CHECK (payment_hash IS NULL
                                  OR (length(payment_hash) = 64 AND payment_hash NOT GLOB '*[^0-9a-f]*')),
  bolt11_expires_at   INTEGER,
  -- The latest automatic pay_invoice attempt, recorded BEFORE it is sent (billing.md: after a
  -- crash with an attempt in flight, lookup_invoice decides before anything is sent again).
  pay_attempt_at      INTEGER,
  pay_attempt_hash    TEXT,
  pay_attempt_state   TEXT CHECK (pay_attempt_state IN ('in_flight', 'failed', 'succeeded')),
  pay_attempt_error   TEXT,
  -- When the grace period's end made the tenant's paid relays delinquent (NULL: not yet).
  delinquent_at       INTEGER,
  -- billing.md: a second invoice for the same period is impossible, whatever crashes or races.
  UNIQUE (tenant, period_start),
  CONSTRAINT period_not_empty CHECK (period_end > period_start),
  CONSTRAINT paid_at_iff_paid CHECK ((status = 'paid') = (paid_at IS NOT NULL)),
  CONSTRAINT paid_via_iff_paid CHECK ((status = 'paid') = (paid_via IS NOT NULL)),
  CONSTRAINT voided_at_iff_void CHECK ((status = 'void') = (voided_at IS NOT NULL)),
  CONSTRAINT bolt11_with_payment_hash CHECK ((bolt11 IS NULL) = (payment_hash IS NULL)),
  CONSTRAINT pay_attempt_complete CHECK ((pay_attempt_at IS NULL) = (pay_attempt_state IS NULL))
) STRICT;

-- GET /tenant/invoices (newest first: scanned backwards) and GET /admin/invoices?tenant=….
CREATE INDEX invoices_by_tenant ON invoices (tenant, seq);
-- GET /admin/invoices?status=… in creation order.
CREATE INDEX invoices_by_status ON invoices (status, seq);
-- Collection, payment checks and grace: the open invoices by due date (a small set, hence partial).
CREATE INDEX invoices_open_by_due ON invoices (due_at) WHERE status = 'open';

-- Every bolt11 issued for an invoice (billing.md: an expired bolt11 is replaced, and the old
-- payment hashes are still checked for payment).
CREATE TABLE invoice_payment_hashes (
  payment_hash  TEXT PRIMARY KEY
                CHECK (length(payment_hash) = 64 AND payment_hash NOT GLOB '*[^0-9a-f]*'),
  invoice       TEXT NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  bolt11        TEXT NOT NULL,
  issued_at     INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX invoice_payment_hashes_by_invoice ON invoice_payment_hashes (invoice, issued_at);

-- One line per relay that cost something in the invoice's period.
CREATE TABLE invoice_items (
  invoice         TEXT NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  relay_id        TEXT NOT NULL REFERENCES relays (id),
  subdomain       TEXT NOT NULL,
  plan            TEXT NOT NULL,  -- the plan at period end
  active_seconds  INTEGER NOT NULL CHECK (active_seconds >= 0),
  active_hours    INTEGER NOT NULL CHECK (active_hours >= 0),
  amount_sats     INTEGER NOT NULL CHECK (amount_sats >= 0),
  -- JSON array of {plan, active_seconds, amount_sats} when the relay had several plan segments.
  segments        TEXT CHECK (segments IS NULL OR json_valid(segments)),
  PRIMARY KEY (invoice, relay_id)
) STRICT;

-- Child side of the relays foreign key (keeps FK checks on relays cheap).
CREATE INDEX invoice_items_by_relay ON invoice_items (relay_id);
