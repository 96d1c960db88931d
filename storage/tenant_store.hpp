// The SQL of a tenant's state: load it whole (a tenant actor's start), and the
// writes a tenant actor makes. Plain functions over a connection, run on the
// storage actor's thread inside its (group-committed) transaction; unit-tested
// directly against a file database.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "domain/model.hpp"

namespace SQLite {
class Database;
}

namespace relayhost::storage {

struct tenant_snapshot {
  std::optional<tenant> row;  // nullopt: the pubkey has no tenant yet
  std::vector<relay> relays;  // creation order
};

tenant_snapshot load_tenant(SQLite::Database& db, const std::string& pubkey);

/// The tenant row alone (with its balance due); nullopt if unknown.
std::optional<tenant> load_tenant_row(SQLite::Database& db, const std::string& pubkey);

/// One relay by id; nullopt if unknown.
std::optional<relay> load_relay(SQLite::Database& db, const std::string& id);

/// INSERT of a new tenant (fails with a UNIQUE violation if it exists).
void insert_tenant(SQLite::Database& db, const tenant& t);

/// Creates the tenant row if it does not exist yet (used by the first write of a
/// tenant that never called GET /tenant).
void ensure_tenant(SQLite::Database& db, const tenant& t);

/// Billing columns of the tenant (nwc_url_enc, wallet_pubkey, nwc_status, anchor).
void update_tenant_billing(SQLite::Database& db, const tenant& t);

/// INSERT of a relay; fills r.seq from the database. Throws on a taken subdomain
/// (UNIQUE violation → the storage actor answers `conflict`).
void insert_relay(SQLite::Database& db, relay& r);

/// UPDATE of a relay's mutable columns (everything but id, tenant, subdomain,
/// secret and created_at).
void update_relay(SQLite::Database& db, const relay& r);

/// status, suspend_reason, suspended_at of the tenant.
void update_tenant_status(SQLite::Database& db, const tenant& t);

/// Appends to the audit log.
void append_audit(SQLite::Database& db, const audit_entry& a);

/// Appends to the relay activity log.
void append_activity(SQLite::Database& db, const relay_activity& a);

/// Whether a change from `before` to `after` must be logged for billing: a change
/// of plan, or of status (active-ness included).
bool activity_changed(const relay& before, const relay& after);

} // namespace relayhost::storage

namespace relayhost::storage {

/// Every relay whose desired state may not be in zooid (sync state not
/// `synced`), in creation order: start-up reconciliation pushes them again.
std::vector<relay> load_unsynced_relays(SQLite::Database& db);

} // namespace relayhost::storage
