// The SQL of collecting invoices (billing.md "Collecting", "Invoice lifecycle"):
// what an open invoice's collection needs to know, the durable record of an
// automatic payment attempt (written BEFORE pay_invoice is sent), payment,
// delinquency and the schedule of the next step. Plain functions over a connection,
// run on the storage actor's thread inside its transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace SQLite {
class Database;
}

namespace relayhost::storage {

/// An open invoice with a bolt11, as collection sees it.
struct collectible {
  std::string id;
  int64_t amount_sats = 0, period_start = 0, period_end = 0, created_at = 0, due_at = 0;
  std::string bolt11, payment_hash;  // the current ones
  // The payment hashes that may have been paid unseen: the current one, the one an
  // attempt paid, and those that expired less than a day before `now`.
  std::vector<std::string> hashes;
  std::optional<int64_t> attempt_at;
  std::string attempt_hash, attempt_state, attempt_error;  // "" when none
  std::optional<int64_t> delinquent_at;
  int64_t checks = 0;
  std::optional<int64_t> next_action_at;
};

/// The tenant's open invoices with a bolt11 whose next step is due by `now` (all of
/// them with `all`), oldest first, each with the hashes to look up.
std::vector<collectible> collectible_invoices(SQLite::Database& db, const std::string& tenant, int64_t now, bool all);

/// Records an attempt before pay_invoice is sent (state in_flight). Throws
/// rejected(conflict) when the invoice is no longer open or an attempt is in flight.
void record_attempt(SQLite::Database& db, const std::string& invoice, int64_t at, const std::string& payment_hash);

/// The outcome of the attempt in flight: "failed" (with the wallet's reason) or
/// "succeeded" (the wallet says paid; the platform wallet must still prove it).
void finish_attempt(SQLite::Database& db, const std::string& invoice, const std::string& state,
                    const std::string& error);

/// Paid over Lightning (proven by the platform wallet). False when it was not open.
bool mark_paid(SQLite::Database& db, const std::string& invoice, int64_t now);

/// The grace period's end: delinquent_at set. False when it was set already or the
/// invoice is not open.
bool mark_delinquent(SQLite::Database& db, const std::string& invoice, int64_t now);

/// Whether the tenant still has an open invoice past its grace period.
bool tenant_delinquent(SQLite::Database& db, const std::string& tenant);

/// When the invoice next needs its tenant, and how many out-of-band checks were done.
void set_next_action(SQLite::Database& db, const std::string& invoice, int64_t at, int64_t checks);

} // namespace relayhost::storage
