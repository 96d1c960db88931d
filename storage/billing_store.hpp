// The SQL of invoicing (billing.md): the activity log a period is prorated from,
// closing periods (invoice + items + the schedule, one transaction), bolt11s from
// the platform wallet, admin status changes, and the scheduler's due list. Plain
// functions over a connection, run on the storage actor's thread inside its
// transaction.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "billing/proration.hpp"
#include "domain/model.hpp"

namespace SQLite {
class Database;
}

namespace relayhost::storage {

/// Every activity row of the tenant's relays with `at` < `before`, per relay, in log order.
std::map<std::string, std::vector<relay_activity>> load_tenant_activity(SQLite::Database& db,
                                                                         const std::string& tenant, int64_t before);

/// One invoice as it is written when its period closes.
struct new_invoice {
  std::string id;
  std::string tenant;
  int64_t period_start = 0, period_end = 0, created_at = 0, due_at = 0;
  int64_t amount_sats = 0;
  std::vector<billing::relay_item> items;
  std::map<std::string, std::string> subdomains;  // relay id → subdomain
};

/// Inserts the invoice and its items unless the tenant has one for that period
/// already (then nothing changes). True when inserted.
bool insert_invoice(SQLite::Database& db, const new_invoice& inv);

/// billing_next_close of the tenant.
void set_next_close(SQLite::Database& db, const std::string& tenant, int64_t next_close);

/// Sum of the tenant's open invoices.
int64_t balance_due(SQLite::Database& db, const std::string& tenant);

/// An open invoice that needs a bolt11: none yet, or the current one has expired
/// by `now` (billing clock).
struct invoice_to_mint {
  std::string id;
  int64_t amount_sats = 0, period_start = 0, period_end = 0, due_at = 0;
  bool first = true;  // no bolt11 was ever issued for it
  std::string payment_hash;  // the current (expired) bolt11's hash, for a renewal
};
std::vector<invoice_to_mint> invoices_to_mint(SQLite::Database& db, const std::string& tenant, int64_t now);

/// Makes an open invoice due for collection at `now` (its lookups run in this pass).
void collect_now(SQLite::Database& db, const std::string& invoice, int64_t now);

/// Records a bolt11 for an open invoice (it becomes the current one; every bolt11
/// is kept in invoice_payment_hashes). False when the invoice is no longer open
/// (nothing changes). Throws on a payment hash already known (a wallet that reuses
/// one cannot be told apart from a replay: the write is refused).
bool store_bolt11(SQLite::Database& db, const std::string& invoice, const std::string& bolt11,
                  const std::string& payment_hash, int64_t issued_at, int64_t expires_at);

/// An invoice as the API shows it (items included); nullopt if unknown.
std::optional<nlohmann::json> find_invoice(SQLite::Database& db, const std::string& id);

/// The tenant an invoice belongs to; nullopt if unknown.
std::optional<std::string> invoice_tenant(SQLite::Database& db, const std::string& id);

/// PUT /admin/invoices/:id: `status` is "void" or "paid" (via admin). Throws
/// rejected(conflict) naming the invoice's status when it is not open, and
/// rejected(not_found) when the tenant has no such invoice.
void set_invoice_status_by_admin(SQLite::Database& db, const std::string& tenant, const std::string& id,
                                 const std::string& status, const std::string& reason, int64_t now);

/// GET /admin/invoices: in creation order, optionally of one status and/or tenant.
struct admin_invoice_page {
  nlohmann::json items = nlohmann::json::array();
  std::optional<int64_t> next;
};
admin_invoice_page list_invoices(SQLite::Database& db, const std::optional<std::string>& status,
                                 const std::optional<std::string>& tenant, int64_t limit,
                                 std::optional<int64_t> after);

/// The scheduler's work at `now` (billing clock): tenants whose next period close
/// has come, and (with `mint`) tenants with an open invoice that needs a bolt11 or
/// whose next collection step is due;
/// in pubkey order after `after`, at most `limit`.
std::vector<std::string> billing_due_tenants(SQLite::Database& db, int64_t now, bool mint, const std::string& after,
                                             int64_t limit);

} // namespace relayhost::storage
