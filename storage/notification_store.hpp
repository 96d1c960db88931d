// The SQL of the DM outbox (migrations/0005_notifications.sql): writing a
// notification inside the transaction of its cause, the notifier's due list and
// its bookkeeping (the wrap stored before the first publication, each attempt's
// outcome), and the admin's paginated list.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/outbox.hpp"
#include "storage/admin_queries.hpp"

namespace SQLite {
class Database;
}

namespace relayhost::storage {

/// Inserts `n` unless a notification with its dedupe key exists (then nothing
/// changes: one cause, one notice, across crashes and retries). True if inserted.
bool insert_notification(SQLite::Database& db, const notification& n);

std::optional<notification> find_notification(SQLite::Database& db, const std::string& id);
std::optional<notification> find_notification_by_dedupe_key(SQLite::Database& db, const std::string& key);

/// Rows whose next attempt is due at `now` (pending, or undeliverable to look
/// at again), soonest first.
std::vector<notification> due_notifications(SQLite::Database& db, int64_t now, int64_t limit);

/// The earliest next attempt of any row, if any (the notifier's next wake-up).
std::optional<int64_t> next_notification_due(SQLite::Database& db);

/// Stores the gift wrap of a notification that has none yet. Throws
/// rejected(conflict) when it already has one: the stored one must be used.
void store_notification_wrap(SQLite::Database& db, const std::string& id, const std::string& wrap_json,
                             const std::string& wrap_id, int64_t now);

/// Applies the outcome of one attempt (domain/outbox.hpp).
void apply_outbox_step(SQLite::Database& db, const std::string& id, const outbox_step& step, int64_t now);

/// GET /admin/notifications: optionally of one state and/or one recipient, in creation order.
page_of<notification> list_notifications(SQLite::Database& db, std::optional<notification_state> state,
                                         const std::optional<std::string>& recipient, int64_t limit,
                                         std::optional<int64_t> after);

/// Rows per state (every state present, 0 when none), for metrics.
std::map<notification_state, int64_t> count_notifications(SQLite::Database& db);

} // namespace relayhost::storage
