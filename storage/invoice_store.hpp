// The SQL of invoices as the API lists them (newest first, with their items).
// Billing writes come with the billing capability; this is the read side.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace SQLite {
class Database;
class Statement;
}

namespace relayhost::storage {

struct invoice_page {
  nlohmann::json items = nlohmann::json::array();
  std::optional<int64_t> next;  // position for the next page's cursor
};

/// The columns invoice_from_row reads ("SELECT … FROM invoices"; add WHERE/ORDER).
extern const char* const invoice_select;

/// The invoice at `row` (a step of a statement over invoice_select), items included.
nlohmann::json invoice_from_row(SQLite::Database& db, SQLite::Statement& row);

/// Steps `st` (over invoice_select, bound to return up to limit + 1 rows) into a
/// page of at most `limit`, with the position of the last one when more follow.
invoice_page page_of_invoices(SQLite::Database& db, SQLite::Statement& st, int64_t limit);

/// A tenant's invoices, newest first; `before` is a position from a cursor.
invoice_page list_tenant_invoices(SQLite::Database& db, const std::string& tenant, int64_t limit,
                                  std::optional<int64_t> before);

} // namespace relayhost::storage
