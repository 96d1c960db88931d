// The billing test clock's stored offset (migrations/0006_billing_clock.sql).
#pragma once

#include <cstdint>

namespace SQLite {
class Database;
}

namespace relayhost::storage {

/// The stored offset in seconds; 0 when the clock was never moved.
int64_t load_clock_offset(SQLite::Database& db);

/// Stores `offset` (>= the stored one: the table refuses a move back).
void store_clock_offset(SQLite::Database& db, int64_t offset, int64_t real_now);

} // namespace relayhost::storage
