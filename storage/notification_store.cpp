#include "storage/notification_store.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "storage/errors.hpp"
#include "storage/statement_cache.hpp"

namespace relayhost::storage {

namespace {

constexpr const char* columns =
  "SELECT seq, id, recipient, kind, dedupe_key, text, state, wrap_json, wrap_id, attempts, next_attempt_at, "
  "last_error, relays_json, created_at, updated_at, sent_at FROM notifications";

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

template <class T>
void bind_opt(SQLite::Statement& st, int idx, const std::optional<T>& v) {
  if (v)
    st.bind(idx, *v);
  else
    st.bind(idx);
}

notification read_row(SQLite::Statement& r) {
  notification n;
  n.seq = r.getColumn(0).getInt64();
  n.id = r.getColumn(1).getString();
  n.recipient = r.getColumn(2).getString();
  n.kind = r.getColumn(3).getString();
  n.dedupe_key = r.getColumn(4).getString();
  n.text = r.getColumn(5).getString();
  n.state = parse_notification_state(r.getColumn(6).getString()).value_or(notification_state::pending);
  n.wrap_json = opt_text(r.getColumn(7));
  n.wrap_id = opt_text(r.getColumn(8));
  n.attempts = r.getColumn(9).getInt64();
  n.next_attempt_at = opt_int(r.getColumn(10));
  n.last_error = opt_text(r.getColumn(11));
  n.relays_json = opt_text(r.getColumn(12));
  n.created_at = r.getColumn(13).getInt64();
  n.updated_at = r.getColumn(14).getInt64();
  n.sent_at = opt_int(r.getColumn(15));
  return n;
}

std::optional<notification> find_one(SQLite::Database& db, const char* where, const std::string& value) {
  statement_ref ref(db, std::string(columns) + " WHERE " + where + " = ?");
  auto& st = *ref;
  st.bind(1, value);
  if (!st.executeStep())
    return std::nullopt;
  return read_row(st);
}

} // namespace

bool insert_notification(SQLite::Database& db, const notification& n) {
  statement_ref ref(db,
                    "INSERT INTO notifications (id, recipient, kind, dedupe_key, text, state, attempts, "
                    "next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?) "
                    "ON CONFLICT (dedupe_key) DO NOTHING");
  auto& st = *ref;
  st.bind(1, n.id);
  st.bind(2, n.recipient);
  st.bind(3, n.kind);
  st.bind(4, n.dedupe_key);
  st.bind(5, n.text);
  bind_opt(st, 6, n.next_attempt_at);
  st.bind(7, static_cast<int64_t>(n.created_at));
  st.bind(8, static_cast<int64_t>(n.updated_at));
  return st.exec() == 1;
}

std::optional<notification> find_notification(SQLite::Database& db, const std::string& id) {
  return find_one(db, "id", id);
}

std::optional<notification> find_notification_by_dedupe_key(SQLite::Database& db, const std::string& key) {
  return find_one(db, "dedupe_key", key);
}

std::vector<notification> due_notifications(SQLite::Database& db, int64_t now, int64_t limit) {
  statement_ref ref(db, std::string(columns) +
                          " WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, seq "
                          "LIMIT ?");
  auto& st = *ref;
  st.bind(1, static_cast<int64_t>(now));
  st.bind(2, static_cast<int64_t>(limit));
  std::vector<notification> out;
  while (st.executeStep())
    out.push_back(read_row(st));
  return out;
}

std::optional<int64_t> next_notification_due(SQLite::Database& db) {
  statement_ref ref(db, "SELECT min(next_attempt_at) FROM notifications WHERE next_attempt_at IS NOT NULL");
  auto& st = *ref;
  if (!st.executeStep())
    return std::nullopt;
  return opt_int(st.getColumn(0));
}

void store_notification_wrap(SQLite::Database& db, const std::string& id, const std::string& wrap_json,
                             const std::string& wrap_id, int64_t now) {
  statement_ref ref(db, "UPDATE notifications SET wrap_json = ?, wrap_id = ?, updated_at = ? "
                        "WHERE id = ? AND wrap_json IS NULL");
  auto& st = *ref;
  st.bind(1, wrap_json);
  st.bind(2, wrap_id);
  st.bind(3, static_cast<int64_t>(now));
  st.bind(4, id);
  if (st.exec() != 1)
    throw rejected(errc::conflict, "the notification already has its gift wrap");
}

void apply_outbox_step(SQLite::Database& db, const std::string& id, const outbox_step& step, int64_t now) {
  statement_ref ref(db, "UPDATE notifications SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, "
                        "sent_at = ?, relays_json = ?, updated_at = ? WHERE id = ? AND state <> 'sent'");
  auto& st = *ref;
  st.bind(1, std::string(to_string(step.state)));
  st.bind(2, static_cast<int64_t>(step.attempts));
  bind_opt(st, 3, step.next_attempt_at);
  bind_opt(st, 4, step.last_error);
  bind_opt(st, 5, step.sent_at);
  bind_opt(st, 6, step.relays_json);
  st.bind(7, static_cast<int64_t>(now));
  st.bind(8, id);
  st.exec();  // a row already sent stays sent (0 rows): nothing to undo
}

page_of<notification> list_notifications(SQLite::Database& db, std::optional<notification_state> state,
                                         const std::optional<std::string>& recipient, int64_t limit,
                                         std::optional<int64_t> after) {
  std::string sql = std::string(columns) + " WHERE seq > ?";
  if (state)
    sql += " AND state = ?";
  if (recipient)
    sql += " AND recipient = ?";
  sql += " ORDER BY seq LIMIT ?";
  SQLite::Statement st(db, sql);
  int i = 1;
  st.bind(i++, static_cast<int64_t>(after.value_or(0)));
  if (state)
    st.bind(i++, std::string(to_string(*state)));
  if (recipient)
    st.bind(i++, *recipient);
  st.bind(i++, static_cast<int64_t>(limit + 1));
  page_of<notification> page;
  while (st.executeStep()) {
    if (static_cast<int64_t>(page.items.size()) == limit) {
      page.next = page.items.back().seq;
      break;
    }
    page.items.push_back(read_row(st));
  }
  return page;
}

std::map<notification_state, int64_t> count_notifications(SQLite::Database& db) {
  std::map<notification_state, int64_t> out{{notification_state::pending, 0},
                                            {notification_state::sent, 0},
                                            {notification_state::undeliverable, 0},
                                            {notification_state::failed, 0}};
  statement_ref ref(db, "SELECT state, count(*) FROM notifications GROUP BY state");
  auto& st = *ref;
  while (st.executeStep())
    if (auto s = parse_notification_state(st.getColumn(0).getString()))
      out[*s] = st.getColumn(1).getInt64();
  return out;
}

} // namespace relayhost::storage
