// Schema migrations: migrations/NNNN_name.sql compiled into the binary
// (cmake/embed_migrations.cmake) and applied in order at start, before anything else
// touches the database. Pure: no actors.
//
// Writing a migration: a new file with the next number; never edit one that has shipped.
// Each runs in its own transaction with foreign keys enforced, so it must not contain
// BEGIN/COMMIT or PRAGMA foreign_keys (a table rebuild uses PRAGMA defer_foreign_keys=ON);
// the foreign keys are checked (PRAGMA foreign_key_check) before it commits.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace SQLite {
class Database;
}

namespace relayhost::storage {

struct migration {
  int version;       // the file name's number
  const char* name;  // the file name, e.g. "0001_init.sql"
  const char* sql;   // one or more statements
};

/// migrations/*.sql, ordered by version (generated at build time).
const std::vector<migration>& embedded_migrations();

/// "" when `all` is usable: versions positive and strictly increasing (hence no
/// duplicates), names and SQL present. Otherwise what is wrong.
std::string check_migrations(const std::vector<migration>& all);

/// The highest applied version; 0 for a database no migration has touched.
int schema_version(SQLite::Database& db);

/// Applies every migration of `all` the database has not applied yet, each in its own
/// transaction, recording (version, name, applied_at) in schema_migrations. Returns the
/// names applied, in order (empty when up to date: then nothing is written). Refuses,
/// returning nullopt and setting *error, when the list is malformed, when the database
/// is newer than `all` ("database schema version 7 is newer than this relayhost (knows
/// up to 3); upgrade relayhost"), when its history disagrees with `all`, or when a
/// migration fails (that migration is rolled back entirely; earlier ones stay applied).
std::optional<std::vector<std::string>> migrate(SQLite::Database& db, const std::vector<migration>& all,
                                                std::string* error);

} // namespace relayhost::storage
