#include "storage/tenant_store.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "storage/statement_cache.hpp"

namespace relayhost::storage {

namespace {

std::optional<std::string> opt_text(const SQLite::Column& c) {
  if (c.isNull())
    return std::nullopt;
  return c.getString();
}

std::optional<int64_t> opt_int(const SQLite::Column& c) {
  if (c.isNull())
    return std::nullopt;
  return c.getInt64();
}

std::vector<uint8_t> blob(const SQLite::Column& c) {
  if (c.isNull())
    return {};
  auto p = static_cast<const uint8_t*>(c.getBlob());
  return std::vector<uint8_t>(p, p + c.getBytes());
}

void bind_opt(SQLite::Statement& st, int idx, const std::optional<std::string>& v) {
  if (v)
    st.bind(idx, *v);
  else
    st.bind(idx);
}

void bind_opt(SQLite::Statement& st, int idx, const std::optional<int64_t>& v) {
  if (v)
    st.bind(idx, static_cast<int64_t>(*v));
  else
    st.bind(idx);
}

void bind_blob(SQLite::Statement& st, int idx, const std::vector<uint8_t>& v) {
  if (v.empty())
    st.bind(idx);
  else
    st.bind(idx, v.data(), static_cast<int>(v.size()));
}

constexpr const char* relay_columns =
  "SELECT seq, id, tenant, subdomain, name, description, icon, plan, policy_public_join, "
  "policy_strip_signatures, status, secret_enc, sync_state, sync_error, sync_attempts, "
  "sync_last_attempt_at, created_at, updated_at, zooid_provisioned, suspended_by, suspend_reason FROM relays";

relay read_relay(SQLite::Statement& r) {
  relay x;
  x.seq = r.getColumn(0).getInt64();
  x.id = r.getColumn(1).getString();
  x.tenant = r.getColumn(2).getString();
  x.subdomain = r.getColumn(3).getString();
  x.name = r.getColumn(4).getString();
  x.description = r.getColumn(5).getString();
  x.icon = opt_text(r.getColumn(6));
  x.plan = r.getColumn(7).getString();
  x.policy.public_join = r.getColumn(8).getInt() != 0;
  x.policy.strip_signatures = r.getColumn(9).getInt() != 0;
  x.status = parse_relay_status(r.getColumn(10).getString()).value_or(relay_status::inactive);
  x.secret_enc = blob(r.getColumn(11));
  x.sync.state = parse_sync_state(r.getColumn(12).getString()).value_or(sync_state::pending);
  x.sync.error = opt_text(r.getColumn(13));
  x.sync.attempts = r.getColumn(14).getInt64();
  x.sync.last_attempt_at = opt_int(r.getColumn(15));
  x.created_at = r.getColumn(16).getInt64();
  x.updated_at = r.getColumn(17).getInt64();
  x.zooid_provisioned = r.getColumn(18).getInt() != 0;
  x.suspended_by = opt_text(r.getColumn(19));
  x.suspend_reason = opt_text(r.getColumn(20));
  return x;
}


} // namespace

std::optional<tenant> load_tenant_row(SQLite::Database& db, const std::string& pubkey) {
  statement_ref t_ref(db, "SELECT pubkey, status, suspend_reason, created_at, updated_at, nwc_url_enc, "
                          "wallet_pubkey, nwc_status, billing_anchor, suspended_at, billing_next_close FROM tenants WHERE pubkey = ?");
  auto& t = *t_ref;
  t.bind(1, pubkey);
  if (!t.executeStep())
    return std::nullopt;
  tenant row;
  row.pubkey = t.getColumn(0).getString();
  row.status = parse_tenant_status(t.getColumn(1).getString()).value_or(tenant_status::active);
  row.suspend_reason = opt_text(t.getColumn(2));
  row.created_at = t.getColumn(3).getInt64();
  row.updated_at = t.getColumn(4).getInt64();
  row.billing.nwc_url_enc = blob(t.getColumn(5));
  row.billing.wallet_pubkey = opt_text(t.getColumn(6));
  row.billing.nwc_status = opt_text(t.getColumn(7));
  row.billing.anchor = opt_int(t.getColumn(8));
  row.suspended_at = opt_int(t.getColumn(9));
  row.billing.next_close = opt_int(t.getColumn(10));
  statement_ref due_ref(db, "SELECT coalesce(sum(amount_sats), 0) FROM invoices WHERE tenant = ? AND status = 'open'");
  auto& due = *due_ref;
  due.bind(1, pubkey);
  if (due.executeStep())
    row.billing.balance_due_sats = due.getColumn(0).getInt64();
  statement_ref late_ref(db, "SELECT EXISTS (SELECT 1 FROM invoices WHERE tenant = ? AND status = 'open' "
                             "AND delinquent_at IS NOT NULL)");
  auto& late = *late_ref;
  late.bind(1, pubkey);
  if (late.executeStep())
    row.billing.delinquent = late.getColumn(0).getInt() != 0;
  return row;
}

std::optional<relay> load_relay(SQLite::Database& db, const std::string& id) {
  statement_ref r_ref(db, std::string(relay_columns) + " WHERE id = ?");
  auto& r = *r_ref;
  r.bind(1, id);
  if (!r.executeStep())
    return std::nullopt;
  return read_relay(r);
}

tenant_snapshot load_tenant(SQLite::Database& db, const std::string& pubkey) {
  tenant_snapshot out;
  out.row = load_tenant_row(db, pubkey);
  if (!out.row)
    return out;

  statement_ref r_ref(db, std::string(relay_columns) + " WHERE tenant = ? ORDER BY seq");
  auto& r = *r_ref;
  r.bind(1, pubkey);
  while (r.executeStep())
    out.relays.push_back(read_relay(r));
  return out;
}

std::vector<relay> load_unsynced_relays(SQLite::Database& db) {
  std::vector<relay> out;
  statement_ref r_ref(db, std::string(relay_columns) + " WHERE sync_state <> 'synced' ORDER BY seq");
  auto& r = *r_ref;
  while (r.executeStep())
    out.push_back(read_relay(r));
  return out;
}

void insert_tenant(SQLite::Database& db, const tenant& t) {
  statement_ref st_ref(db, "INSERT INTO tenants (pubkey, status, suspend_reason, created_at, updated_at) "
                           "VALUES (?, ?, ?, ?, ?)");
  auto& st = *st_ref;
  st.bind(1, t.pubkey);
  st.bind(2, std::string(to_string(t.status)));
  bind_opt(st, 3, t.suspend_reason);
  st.bind(4, static_cast<int64_t>(t.created_at));
  st.bind(5, static_cast<int64_t>(t.updated_at));
  st.exec();
}

void ensure_tenant(SQLite::Database& db, const tenant& t) {
  statement_ref st_ref(db, "INSERT INTO tenants (pubkey, status, created_at, updated_at) VALUES (?, 'active', ?, ?) "
                           "ON CONFLICT (pubkey) DO NOTHING");
  auto& st = *st_ref;
  st.bind(1, t.pubkey);
  st.bind(2, static_cast<int64_t>(t.created_at));
  st.bind(3, static_cast<int64_t>(t.updated_at));
  st.exec();
}

void update_tenant_billing(SQLite::Database& db, const tenant& t) {
  statement_ref st_ref(db, "UPDATE tenants SET nwc_url_enc = ?, wallet_pubkey = ?, nwc_status = ?, "
                           "billing_anchor = ?, billing_next_close = ?, updated_at = ? WHERE pubkey = ?");
  auto& st = *st_ref;
  bind_blob(st, 1, t.billing.nwc_url_enc);
  bind_opt(st, 2, t.billing.wallet_pubkey);
  bind_opt(st, 3, t.billing.nwc_status);
  bind_opt(st, 4, t.billing.anchor);
  bind_opt(st, 5, t.billing.next_close);
  st.bind(6, static_cast<int64_t>(t.updated_at));
  st.bind(7, t.pubkey);
  if (st.exec() != 1)
    throw std::runtime_error("tenant row missing");
}

void insert_relay(SQLite::Database& db, relay& r) {
  statement_ref st_ref(db, "INSERT INTO relays (id, tenant, subdomain, name, description, icon, plan, "
                           "policy_public_join, policy_strip_signatures, status, secret_enc, sync_state, "
                           "sync_error, sync_attempts, sync_last_attempt_at, created_at, updated_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  auto& st = *st_ref;
  st.bind(1, r.id);
  st.bind(2, r.tenant);
  st.bind(3, r.subdomain);
  st.bind(4, r.name);
  st.bind(5, r.description);
  bind_opt(st, 6, r.icon);
  st.bind(7, r.plan);
  st.bind(8, r.policy.public_join ? 1 : 0);
  st.bind(9, r.policy.strip_signatures ? 1 : 0);
  st.bind(10, std::string(to_string(r.status)));
  st.bind(11, r.secret_enc.data(), static_cast<int>(r.secret_enc.size()));
  st.bind(12, std::string(to_string(r.sync.state)));
  bind_opt(st, 13, r.sync.error);
  st.bind(14, static_cast<int64_t>(r.sync.attempts));
  bind_opt(st, 15, r.sync.last_attempt_at);
  st.bind(16, static_cast<int64_t>(r.created_at));
  st.bind(17, static_cast<int64_t>(r.updated_at));
  st.exec();
  r.seq = db.getLastInsertRowid();
}

void update_relay(SQLite::Database& db, const relay& r) {
  statement_ref st_ref(db, "UPDATE relays SET name = ?, description = ?, icon = ?, plan = ?, "
                           "policy_public_join = ?, policy_strip_signatures = ?, status = ?, sync_state = ?, "
                           "sync_error = ?, sync_attempts = ?, sync_last_attempt_at = ?, updated_at = ?, "
                           "zooid_provisioned = ?, suspended_by = ?, suspend_reason = ? WHERE id = ? AND tenant = ?");
  auto& st = *st_ref;
  st.bind(1, r.name);
  st.bind(2, r.description);
  bind_opt(st, 3, r.icon);
  st.bind(4, r.plan);
  st.bind(5, r.policy.public_join ? 1 : 0);
  st.bind(6, r.policy.strip_signatures ? 1 : 0);
  st.bind(7, std::string(to_string(r.status)));
  st.bind(8, std::string(to_string(r.sync.state)));
  bind_opt(st, 9, r.sync.error);
  st.bind(10, static_cast<int64_t>(r.sync.attempts));
  bind_opt(st, 11, r.sync.last_attempt_at);
  st.bind(12, static_cast<int64_t>(r.updated_at));
  st.bind(13, r.zooid_provisioned ? 1 : 0);
  bind_opt(st, 14, r.suspended_by);
  bind_opt(st, 15, r.suspend_reason);
  st.bind(16, r.id);
  st.bind(17, r.tenant);
  if (st.exec() != 1)
    throw std::runtime_error("relay row missing");
}

void update_tenant_status(SQLite::Database& db, const tenant& t) {
  statement_ref st_ref(db, "UPDATE tenants SET status = ?, suspend_reason = ?, suspended_at = ?, updated_at = ? "
                           "WHERE pubkey = ?");
  auto& st = *st_ref;
  st.bind(1, std::string(to_string(t.status)));
  bind_opt(st, 2, t.suspend_reason);
  bind_opt(st, 3, t.suspended_at);
  st.bind(4, static_cast<int64_t>(t.updated_at));
  st.bind(5, t.pubkey);
  if (st.exec() != 1)
    throw std::runtime_error("tenant row missing");
}

void append_audit(SQLite::Database& db, const audit_entry& a) {
  statement_ref st_ref(db, "INSERT INTO audit_log (at, admin, action, target_type, target_id, reason, before_json, "
                           "after_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  auto& st = *st_ref;
  st.bind(1, static_cast<int64_t>(a.at));
  st.bind(2, a.admin);
  st.bind(3, a.action);
  st.bind(4, a.target_type);
  st.bind(5, a.target_id);
  bind_opt(st, 6, a.reason);
  bind_opt(st, 7, a.before_json);
  bind_opt(st, 8, a.after_json);
  st.exec();
}

void append_activity(SQLite::Database& db, const relay_activity& a) {
  statement_ref st_ref(db, "INSERT INTO relay_activity (relay, at, plan, active, status) VALUES (?, ?, ?, ?, ?)");
  auto& st = *st_ref;
  st.bind(1, a.relay_id);
  st.bind(2, static_cast<int64_t>(a.at));
  st.bind(3, a.plan);
  st.bind(4, a.active ? 1 : 0);
  st.bind(5, std::string(to_string(a.status)));
  st.exec();
}

bool activity_changed(const relay& before, const relay& after) {
  return before.plan != after.plan || before.status != after.status;
}

} // namespace relayhost::storage
