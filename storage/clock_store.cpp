#include "storage/clock_store.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

namespace relayhost::storage {

int64_t load_clock_offset(SQLite::Database& db) {
  SQLite::Statement st(db, "SELECT offset_seconds FROM billing_clock WHERE id = 1");
  return st.executeStep() ? st.getColumn(0).getInt64() : 0;
}

void store_clock_offset(SQLite::Database& db, int64_t offset, int64_t real_now) {
  SQLite::Statement st(db,
                       "INSERT INTO billing_clock (id, offset_seconds, updated_at) VALUES (1, ?, ?) "
                       "ON CONFLICT (id) DO UPDATE SET offset_seconds = excluded.offset_seconds, "
                       "updated_at = excluded.updated_at");
  st.bind(1, static_cast<int64_t>(offset));
  st.bind(2, static_cast<int64_t>(real_now));
  st.exec();
}

} // namespace relayhost::storage
