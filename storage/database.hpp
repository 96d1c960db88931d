// Opening relayhost's SQLite database: DATABASE_URL → file path, and a connection
// configured the one way relayhost relies on (WAL, foreign keys enforced, busy
// timeout). Pure: no actors. The storage actor then owns the connection.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace SQLite {
class Database;
}

namespace relayhost::storage {

/// How long a statement waits for another connection's lock before SQLITE_BUSY.
/// relayhost is the database's only writer; this covers a backup tool or the
/// sqlite3 shell holding a lock for a moment.
inline constexpr std::chrono::milliseconds default_busy_timeout{5000};

/// STRICT tables need SQLite 3.37.
inline constexpr int minimum_sqlite_version = 3037000;
inline constexpr const char* minimum_sqlite_version_text = "3.37.0";

/// The file path of DATABASE_URL: `sqlite://relative/path`, `sqlite:///abs/path` or a
/// plain path. Other schemes, query strings, an empty path and in-memory databases are
/// refused: returns "" and sets *error (the message never repeats the URL, which could
/// hold credentials of another scheme).
std::string database_path_from_url(std::string_view url, std::string* error);

/// Opens (creating if missing, with its parent directory) the database at `path` and
/// configures the connection: journal_mode=WAL, foreign_keys=ON (verified),
/// synchronous=NORMAL, busy timeout. Returns nullptr and sets *error on failure.
std::unique_ptr<SQLite::Database> open_database(const std::string& path, std::string* error);

} // namespace relayhost::storage
