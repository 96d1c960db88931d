#include "storage/invoice_store.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

namespace relayhost::storage {

namespace {
nlohmann::json opt_json(const SQLite::Column& c) {
  if (c.isNull())
    return nullptr;
  if (c.isInteger())
    return c.getInt64();
  return c.getString();
}
} // namespace

const char* const invoice_select =
  "SELECT seq, id, status, amount_sats, period_start, period_end, created_at, paid_at, bolt11, payment_hash, "
  "due_at, tenant, paid_via, status_reason, voided_at FROM invoices";

nlohmann::json invoice_from_row(SQLite::Database& db, SQLite::Statement& st) {
  nlohmann::json inv{{"id", st.getColumn(1).getString()},
                     {"tenant", st.getColumn(11).getString()},
                     {"status", st.getColumn(2).getString()},
                     {"amount_sats", st.getColumn(3).getInt64()},
                     {"period_start", st.getColumn(4).getInt64()},
                     {"period_end", st.getColumn(5).getInt64()},
                     {"created_at", st.getColumn(6).getInt64()},
                     {"due_at", st.getColumn(10).getInt64()},
                     {"paid_at", opt_json(st.getColumn(7))},
                     {"paid_via", opt_json(st.getColumn(12))},
                     {"voided_at", opt_json(st.getColumn(14))},
                     {"status_reason", opt_json(st.getColumn(13))},
                     {"bolt11", opt_json(st.getColumn(8))},
                     {"payment_hash", opt_json(st.getColumn(9))},
                     {"items", nlohmann::json::array()}};
  SQLite::Statement items(db, "SELECT relay_id, subdomain, plan, active_hours, amount_sats, segments "
                              "FROM invoice_items WHERE invoice = ? ORDER BY rowid");
  items.bind(1, inv["id"].get<std::string>());
  while (items.executeStep()) {
    nlohmann::json item{{"relay_id", items.getColumn(0).getString()},
                        {"subdomain", items.getColumn(1).getString()},
                        {"plan", items.getColumn(2).getString()},
                        {"active_hours", items.getColumn(3).getInt64()},
                        {"amount_sats", items.getColumn(4).getInt64()}};
    if (!items.getColumn(5).isNull())
      item["segments"] = nlohmann::json::parse(items.getColumn(5).getString(), nullptr, false);
    inv["items"].push_back(std::move(item));
  }
  return inv;
}

invoice_page page_of_invoices(SQLite::Database& db, SQLite::Statement& st, int64_t limit) {
  invoice_page page;
  int64_t count = 0, last_seq = 0;
  while (st.executeStep()) {
    if (count == limit) {
      page.next = last_seq;
      break;
    }
    last_seq = st.getColumn(0).getInt64();
    page.items.push_back(invoice_from_row(db, st));
    ++count;
  }
  return page;
}

invoice_page list_tenant_invoices(SQLite::Database& db, const std::string& tenant, int64_t limit,
                                  std::optional<int64_t> before) {
  SQLite::Statement st(db, std::string(invoice_select) + " WHERE tenant = ? AND seq < ? ORDER BY seq DESC LIMIT ?");
  st.bind(1, tenant);
  st.bind(2, static_cast<int64_t>(before.value_or(INT64_MAX)));
  st.bind(3, static_cast<int64_t>(limit + 1));
  return page_of_invoices(db, st, limit);
}

} // namespace relayhost::storage
