// The platform-wide reads of the admin API: tenants, relays and the audit log,
// filtered and paginated in creation order through indexed range scans (never a
// full scan per page), plus the owner of a relay (to route admin writes to the
// owning tenant's actor).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/model.hpp"

namespace SQLite {
class Database;
}

namespace relayhost::storage {

template <class T>
struct page_of {
  std::vector<T> items;
  std::optional<int64_t> next;  // position for the next page's cursor
};

/// Tenants (with their seq as position), optionally of one status.
page_of<tenant> list_tenants(SQLite::Database& db, std::optional<tenant_status> status, int64_t limit,
                             std::optional<int64_t> after);

/// Relays, optionally of one status and/or one tenant.
page_of<relay> list_relays(SQLite::Database& db, std::optional<relay_status> status,
                           const std::optional<std::string>& tenant, int64_t limit, std::optional<int64_t> after);

std::optional<relay> find_relay(SQLite::Database& db, const std::string& id);

/// How many relays use each plan (any status), for the start-up check that no
/// plan in use was removed from PLANS.
std::map<std::string, int64_t> relays_by_plan(SQLite::Database& db);

/// The audit log in the order it was written.
page_of<audit_entry> list_audit(SQLite::Database& db, int64_t limit, std::optional<int64_t> after);

} // namespace relayhost::storage
