#include "storage/admin_queries.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "storage/tenant_store.hpp"

namespace relayhost::storage {

namespace {

std::optional<std::string> opt_text(const SQLite::Column& c) {
  if (c.isNull())
    return std::nullopt;
  return c.getString();
}

/// Runs a "… WHERE … AND seq > ? ORDER BY seq LIMIT ?" statement whose first
/// column is seq; `read` turns a row into an item. limit+1 rows tell whether a
/// next page exists.
template <class T, class Read>
page_of<T> collect(SQLite::Statement& st, int64_t limit, Read read) {
  page_of<T> page;
  int64_t last = 0;
  while (st.executeStep()) {
    if (static_cast<int64_t>(page.items.size()) == limit) {
      page.next = last;
      break;
    }
    last = st.getColumn(0).getInt64();
    page.items.push_back(read(st));
  }
  return page;
}

} // namespace

page_of<tenant> list_tenants(SQLite::Database& db, std::optional<tenant_status> status, int64_t limit,
                             std::optional<int64_t> after) {
  std::string sql = "SELECT seq, pubkey FROM tenants WHERE seq > ?";
  if (status)
    sql += " AND status = ?";
  sql += " ORDER BY seq LIMIT ?";
  SQLite::Statement st(db, sql);
  int i = 1;
  st.bind(i++, static_cast<int64_t>(after.value_or(0)));
  if (status)
    st.bind(i++, std::string(to_string(*status)));
  st.bind(i++, static_cast<int64_t>(limit + 1));
  auto page = collect<tenant>(st, limit, [](SQLite::Statement& s) {
    tenant t;
    t.pubkey = s.getColumn(1).getString();
    return t;
  });
  // One indexed lookup per item of the page (≤ 500), through the same loader the
  // tenant actors use, so both views agree.
  for (auto& t : page.items)
    t = *load_tenant_row(db, t.pubkey);
  return page;
}

page_of<relay> list_relays(SQLite::Database& db, std::optional<relay_status> status,
                           const std::optional<std::string>& tenant, int64_t limit, std::optional<int64_t> after) {
  std::string sql = "SELECT seq, id FROM relays WHERE seq > ?";
  if (tenant)
    sql += " AND tenant = ?";
  if (status)
    sql += " AND status = ?";
  sql += " ORDER BY seq LIMIT ?";
  SQLite::Statement st(db, sql);
  int i = 1;
  st.bind(i++, static_cast<int64_t>(after.value_or(0)));
  if (tenant)
    st.bind(i++, *tenant);
  if (status)
    st.bind(i++, std::string(to_string(*status)));
  st.bind(i++, static_cast<int64_t>(limit + 1));
  auto page = collect<relay>(st, limit, [](SQLite::Statement& s) {
    relay r;
    r.id = s.getColumn(1).getString();
    return r;
  });
  for (auto& r : page.items)
    r = *find_relay(db, r.id);
  return page;
}

std::optional<relay> find_relay(SQLite::Database& db, const std::string& id) {
  return load_relay(db, id);
}

std::map<std::string, int64_t> relays_by_plan(SQLite::Database& db) {
  SQLite::Statement st(db, "SELECT plan, count(*) FROM relays GROUP BY plan");
  std::map<std::string, int64_t> out;
  while (st.executeStep())
    out[st.getColumn(0).getString()] = st.getColumn(1).getInt64();
  return out;
}

page_of<audit_entry> list_audit(SQLite::Database& db, int64_t limit, std::optional<int64_t> after) {
  SQLite::Statement st(db, "SELECT id, at, admin, action, target_type, target_id, reason, before_json, after_json "
                           "FROM audit_log WHERE id > ? ORDER BY id LIMIT ?");
  st.bind(1, static_cast<int64_t>(after.value_or(0)));
  st.bind(2, static_cast<int64_t>(limit + 1));
  return collect<audit_entry>(st, limit, [](SQLite::Statement& s) {
    audit_entry a;
    a.id = s.getColumn(0).getInt64();
    a.at = s.getColumn(1).getInt64();
    a.admin = s.getColumn(2).getString();
    a.action = s.getColumn(3).getString();
    a.target_type = s.getColumn(4).getString();
    a.target_id = s.getColumn(5).getString();
    a.reason = opt_text(s.getColumn(6));
    a.before_json = opt_text(s.getColumn(7));
    a.after_json = opt_text(s.getColumn(8));
    return a;
  });
}

} // namespace relayhost::storage
