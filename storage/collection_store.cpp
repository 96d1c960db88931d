#include "storage/collection_store.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "storage/errors.hpp"
#include "storage/statement_cache.hpp"

namespace relayhost::storage {

namespace {
std::string text_or_empty(const SQLite::Column& c) {
  return c.isNull() ? std::string() : c.getString();
}
std::optional<int64_t> opt_int(const SQLite::Column& c) {
  if (c.isNull())
    return std::nullopt;
  return c.getInt64();
}
} // namespace

std::vector<collectible> collectible_invoices(SQLite::Database& db, const std::string& tenant, int64_t now, bool all) {
  statement_ref st_ref(db, "SELECT id, amount_sats, period_start, period_end, created_at, due_at, bolt11, payment_hash, "
                           "pay_attempt_at, pay_attempt_hash, pay_attempt_state, pay_attempt_error, delinquent_at, "
                           "checks, next_action_at FROM invoices WHERE tenant = ? AND status = 'open' "
                           "AND bolt11 IS NOT NULL AND (? OR next_action_at IS NULL OR next_action_at <= ?) ORDER BY seq");
  auto& st = *st_ref;
  st.bind(1, tenant);
  st.bind(2, all ? 1 : 0);
  st.bind(3, static_cast<int64_t>(now));
  std::vector<collectible> out;
  while (st.executeStep()) {
    collectible c;
    c.id = st.getColumn(0).getString();
    c.amount_sats = st.getColumn(1).getInt64();
    c.period_start = st.getColumn(2).getInt64();
    c.period_end = st.getColumn(3).getInt64();
    c.created_at = st.getColumn(4).getInt64();
    c.due_at = st.getColumn(5).getInt64();
    c.bolt11 = st.getColumn(6).getString();
    c.payment_hash = st.getColumn(7).getString();
    c.attempt_at = opt_int(st.getColumn(8));
    c.attempt_hash = text_or_empty(st.getColumn(9));
    c.attempt_state = text_or_empty(st.getColumn(10));
    c.attempt_error = text_or_empty(st.getColumn(11));
    c.delinquent_at = opt_int(st.getColumn(12));
    c.checks = st.getColumn(13).getInt64();
    c.next_action_at = opt_int(st.getColumn(14));
    out.push_back(std::move(c));
  }
  // The bolt11s that can still have been paid unseen: the current one, the one an
  // attempt paid, and any that expired less than a day ago (payable until their
  // expiry; the hourly checks of that day see such a payment). Older ones were
  // checked after their expiry already, so a check does not grow with every renewal.
  statement_ref h_ref(db, "SELECT payment_hash FROM invoice_payment_hashes WHERE invoice = ? "
                          "AND (payment_hash = ? OR payment_hash = ? OR expires_at >= ?) ORDER BY issued_at");
  auto& h = *h_ref;
  for (auto& c : out) {
    h.reset();
    h.bind(1, c.id);
    h.bind(2, c.payment_hash);
    h.bind(3, c.attempt_hash);
    h.bind(4, static_cast<int64_t>(now - 86400));
    while (h.executeStep())
      c.hashes.push_back(h.getColumn(0).getString());
    h.reset();
  }
  return out;
}

void record_attempt(SQLite::Database& db, const std::string& invoice, int64_t at, const std::string& payment_hash) {
  statement_ref st_ref(db, "UPDATE invoices SET pay_attempt_at = ?, pay_attempt_hash = ?, pay_attempt_state = 'in_flight', "
                           "pay_attempt_error = NULL WHERE id = ? AND status = 'open' "
                           "AND (pay_attempt_state IS NULL OR pay_attempt_state <> 'in_flight')");
  auto& st = *st_ref;
  st.bind(1, static_cast<int64_t>(at));
  st.bind(2, payment_hash);
  st.bind(3, invoice);
  if (st.exec() != 1)
    throw rejected(errc::conflict, "the invoice is not open or has an attempt in flight");
}

void finish_attempt(SQLite::Database& db, const std::string& invoice, const std::string& state,
                    const std::string& error) {
  statement_ref st_ref(db, "UPDATE invoices SET pay_attempt_state = ?, pay_attempt_error = ? "
                           "WHERE id = ? AND pay_attempt_state = 'in_flight'");
  auto& st = *st_ref;
  st.bind(1, state);
  if (error.empty())
    st.bind(2);
  else
    st.bind(2, error);
  st.bind(3, invoice);
  st.exec();
}

bool mark_paid(SQLite::Database& db, const std::string& invoice, int64_t now) {
  statement_ref st_ref(db, "UPDATE invoices SET status = 'paid', paid_at = ?, paid_via = 'lightning', "
                           "pay_attempt_state = CASE WHEN pay_attempt_state = 'in_flight' THEN 'succeeded' "
                           "ELSE pay_attempt_state END, next_action_at = NULL WHERE id = ? AND status = 'open'");
  auto& st = *st_ref;
  st.bind(1, static_cast<int64_t>(now));
  st.bind(2, invoice);
  return st.exec() == 1;
}

bool mark_delinquent(SQLite::Database& db, const std::string& invoice, int64_t now) {
  statement_ref st_ref(db, "UPDATE invoices SET delinquent_at = ? WHERE id = ? AND status = 'open' "
                           "AND delinquent_at IS NULL");
  auto& st = *st_ref;
  st.bind(1, static_cast<int64_t>(now));
  st.bind(2, invoice);
  return st.exec() == 1;
}

bool tenant_delinquent(SQLite::Database& db, const std::string& tenant) {
  statement_ref st_ref(db, "SELECT EXISTS (SELECT 1 FROM invoices WHERE tenant = ? AND status = 'open' "
                           "AND delinquent_at IS NOT NULL)");
  auto& st = *st_ref;
  st.bind(1, tenant);
  return st.executeStep() && st.getColumn(0).getInt() != 0;
}

void set_next_action(SQLite::Database& db, const std::string& invoice, int64_t at, int64_t checks) {
  statement_ref st_ref(db, "UPDATE invoices SET next_action_at = ?, checks = ? WHERE id = ? AND status = 'open'");
  auto& st = *st_ref;
  st.bind(1, static_cast<int64_t>(at));
  st.bind(2, static_cast<int64_t>(checks));
  st.bind(3, invoice);
  st.exec();
}

} // namespace relayhost::storage
