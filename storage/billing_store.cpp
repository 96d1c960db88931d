#include "storage/billing_store.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "storage/errors.hpp"
#include "storage/invoice_store.hpp"
#include "storage/statement_cache.hpp"

namespace relayhost::storage {

using json = nlohmann::json;

std::map<std::string, std::vector<relay_activity>> load_tenant_activity(SQLite::Database& db,
                                                                         const std::string& tenant, int64_t before) {
  statement_ref st_ref(db, "SELECT a.relay, a.at, a.plan, a.active, a.status FROM relay_activity a "
                           "JOIN relays r ON r.id = a.relay WHERE r.tenant = ? AND a.at < ? "
                           "ORDER BY a.relay, a.at, a.id");
  auto& st = *st_ref;
  st.bind(1, tenant);
  st.bind(2, static_cast<int64_t>(before));
  std::map<std::string, std::vector<relay_activity>> out;
  while (st.executeStep()) {
    relay_activity a;
    a.relay_id = st.getColumn(0).getString();
    a.at = st.getColumn(1).getInt64();
    a.plan = st.getColumn(2).getString();
    a.active = st.getColumn(3).getInt() != 0;
    a.status = parse_relay_status(st.getColumn(4).getString()).value_or(relay_status::inactive);
    out[a.relay_id].push_back(std::move(a));
  }
  return out;
}

bool insert_invoice(SQLite::Database& db, const new_invoice& inv) {
  statement_ref st_ref(db, "INSERT INTO invoices (id, tenant, status, amount_sats, period_start, period_end, "
                           "created_at, due_at) VALUES (?, ?, 'open', ?, ?, ?, ?, ?) "
                           "ON CONFLICT (tenant, period_start) DO NOTHING");
  auto& st = *st_ref;
  st.bind(1, inv.id);
  st.bind(2, inv.tenant);
  st.bind(3, static_cast<int64_t>(inv.amount_sats));
  st.bind(4, static_cast<int64_t>(inv.period_start));
  st.bind(5, static_cast<int64_t>(inv.period_end));
  st.bind(6, static_cast<int64_t>(inv.created_at));
  st.bind(7, static_cast<int64_t>(inv.due_at));
  if (st.exec() == 0)
    return false;
  statement_ref it_ref(db, "INSERT INTO invoice_items (invoice, relay_id, subdomain, plan, active_seconds, "
                           "active_hours, amount_sats, segments) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  auto& it = *it_ref;
  for (auto& item : inv.items) {
    it.reset();
    it.clearBindings();
    it.bind(1, inv.id);
    it.bind(2, item.relay_id);
    auto sub = inv.subdomains.find(item.relay_id);
    it.bind(3, sub == inv.subdomains.end() ? item.relay_id : sub->second);
    it.bind(4, item.plan);
    it.bind(5, static_cast<int64_t>(item.active_seconds));
    it.bind(6, static_cast<int64_t>(item.active_hours));
    it.bind(7, static_cast<int64_t>(item.amount_sats));
    if (item.segments.size() > 1) {
      json segs = json::array();
      for (auto& s : item.segments)
        segs.push_back({{"plan", s.plan}, {"active_seconds", s.active_seconds}, {"amount_sats", s.amount_sats}});
      it.bind(8, segs.dump());
    } else {
      it.bind(8);
    }
    it.exec();
  }
  return true;
}

void set_next_close(SQLite::Database& db, const std::string& tenant, int64_t next_close) {
  statement_ref st_ref(db, "UPDATE tenants SET billing_next_close = ? WHERE pubkey = ?");
  auto& st = *st_ref;
  st.bind(1, static_cast<int64_t>(next_close));
  st.bind(2, tenant);
  if (st.exec() != 1)
    throw std::runtime_error("tenant row missing");
}

int64_t balance_due(SQLite::Database& db, const std::string& tenant) {
  statement_ref st_ref(db, "SELECT coalesce(sum(amount_sats), 0) FROM invoices WHERE tenant = ? AND status = 'open'");
  auto& st = *st_ref;
  st.bind(1, tenant);
  return st.executeStep() ? st.getColumn(0).getInt64() : 0;
}

std::vector<invoice_to_mint> invoices_to_mint(SQLite::Database& db, const std::string& tenant, int64_t now) {
  statement_ref st_ref(db, "SELECT id, amount_sats, period_start, period_end, due_at, "
                           "(SELECT count(*) FROM invoice_payment_hashes h WHERE h.invoice = invoices.id), "
                           "coalesce(payment_hash, '') "
                           "FROM invoices WHERE tenant = ? AND status = 'open' AND amount_sats > 0 "
                           "AND (bolt11 IS NULL OR bolt11_expires_at <= ?) ORDER BY seq");
  auto& st = *st_ref;
  st.bind(1, tenant);
  st.bind(2, static_cast<int64_t>(now));
  std::vector<invoice_to_mint> out;
  while (st.executeStep())
    out.push_back({st.getColumn(0).getString(), st.getColumn(1).getInt64(), st.getColumn(2).getInt64(),
                   st.getColumn(3).getInt64(), st.getColumn(4).getInt64(), st.getColumn(5).getInt64() == 0,
                   st.getColumn(6).getString()});
  return out;
}

void collect_now(SQLite::Database& db, const std::string& invoice, int64_t now) {
  statement_ref st_ref(db, "UPDATE invoices SET next_action_at = ? WHERE id = ? AND status = 'open'");
  auto& st = *st_ref;
  st.bind(1, static_cast<int64_t>(now));
  st.bind(2, invoice);
  st.exec();
}

bool store_bolt11(SQLite::Database& db, const std::string& invoice, const std::string& bolt11,
                  const std::string& payment_hash, int64_t issued_at, int64_t expires_at) {
  statement_ref up_ref(db, "UPDATE invoices SET bolt11 = ?, payment_hash = ?, bolt11_expires_at = ? "
                           "WHERE id = ? AND status = 'open'");
  auto& up = *up_ref;
  up.bind(1, bolt11);
  up.bind(2, payment_hash);
  up.bind(3, static_cast<int64_t>(expires_at));
  up.bind(4, invoice);
  if (up.exec() == 0)
    return false;
  statement_ref ins_ref(db, "INSERT INTO invoice_payment_hashes (payment_hash, invoice, bolt11, issued_at, expires_at) "
                            "VALUES (?, ?, ?, ?, ?)");
  auto& ins = *ins_ref;
  ins.bind(1, payment_hash);
  ins.bind(2, invoice);
  ins.bind(3, bolt11);
  ins.bind(4, static_cast<int64_t>(issued_at));
  ins.bind(5, static_cast<int64_t>(expires_at));
  ins.exec();
  return true;
}

std::optional<json> find_invoice(SQLite::Database& db, const std::string& id) {
  SQLite::Statement st(db, std::string(invoice_select) + " WHERE id = ?");
  st.bind(1, id);
  if (!st.executeStep())
    return std::nullopt;
  return invoice_from_row(db, st);
}

std::optional<std::string> invoice_tenant(SQLite::Database& db, const std::string& id) {
  statement_ref st_ref(db, "SELECT tenant FROM invoices WHERE id = ?");
  auto& st = *st_ref;
  st.bind(1, id);
  if (!st.executeStep())
    return std::nullopt;
  return st.getColumn(0).getString();
}

void set_invoice_status_by_admin(SQLite::Database& db, const std::string& tenant, const std::string& id,
                                 const std::string& status, const std::string& reason, int64_t now) {
  SQLite::Statement cur(db, "SELECT status FROM invoices WHERE id = ? AND tenant = ?");
  cur.bind(1, id);
  cur.bind(2, tenant);
  if (!cur.executeStep())
    throw rejected(errc::not_found, "no such invoice");
  auto was = cur.getColumn(0).getString();
  if (was != "open")
    throw rejected(errc::conflict, "the invoice is " + was + ": only an open invoice can be voided or marked paid");
  SQLite::Statement up(db, status == "paid"
                             ? "UPDATE invoices SET status = 'paid', paid_at = ?, paid_via = 'admin', "
                               "status_reason = ? WHERE id = ? AND status = 'open'"
                             : "UPDATE invoices SET status = 'void', voided_at = ?, status_reason = ? "
                               "WHERE id = ? AND status = 'open'");
  up.bind(1, static_cast<int64_t>(now));
  up.bind(2, reason);
  up.bind(3, id);
  if (up.exec() != 1)
    throw std::runtime_error("invoice changed under its writer");
}

admin_invoice_page list_invoices(SQLite::Database& db, const std::optional<std::string>& status,
                                 const std::optional<std::string>& tenant, int64_t limit,
                                 std::optional<int64_t> after) {
  std::string sql = std::string(invoice_select) + " WHERE seq > ?";
  if (status)
    sql += " AND status = ?";
  if (tenant)
    sql += " AND tenant = ?";
  sql += " ORDER BY seq LIMIT ?";
  SQLite::Statement st(db, sql);
  int i = 1;
  st.bind(i++, static_cast<int64_t>(after.value_or(0)));
  if (status)
    st.bind(i++, *status);
  if (tenant)
    st.bind(i++, *tenant);
  st.bind(i, static_cast<int64_t>(limit + 1));
  auto page = page_of_invoices(db, st, limit);
  return {std::move(page.items), page.next};
}

std::vector<std::string> billing_due_tenants(SQLite::Database& db, int64_t now, bool mint, const std::string& after,
                                             int64_t limit) {
  std::string sql = "SELECT pubkey FROM tenants WHERE billing_next_close <= ?1 AND pubkey > ?2";
  if (mint)
    sql += " UNION SELECT DISTINCT tenant FROM invoices WHERE status = 'open' AND amount_sats > 0 "
           "AND (bolt11 IS NULL OR bolt11_expires_at <= ?1) AND tenant > ?2"
           " UNION SELECT DISTINCT tenant FROM invoices WHERE status = 'open' AND next_action_at <= ?1 AND tenant > ?2";
  sql += " ORDER BY 1 LIMIT ?3";
  statement_ref st_ref(db, sql);
  auto& st = *st_ref;
  st.bind(1, static_cast<int64_t>(now));
  st.bind(2, after);
  st.bind(3, static_cast<int64_t>(limit));
  std::vector<std::string> out;
  while (st.executeStep())
    out.push_back(st.getColumn(0).getString());
  return out;
}

} // namespace relayhost::storage
