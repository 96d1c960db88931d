#include "storage/migrations.hpp"

#include <ctime>
#include <map>
#include <stdexcept>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

namespace relayhost::storage {

namespace {

constexpr const char* create_history_table = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version     INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  applied_at  INTEGER NOT NULL
) STRICT)sql";

std::map<int, std::string> applied_migrations(SQLite::Database& db) {
  std::map<int, std::string> out;
  SQLite::Statement q(db, "SELECT version, name FROM schema_migrations");
  while (q.executeStep())
    out.emplace(q.getColumn(0).getInt(), q.getColumn(1).getString());
  return out;
}

bool in_transaction(SQLite::Database& db) {
  return sqlite3_get_autocommit(db.getHandle()) == 0;
}

void rollback_quietly(SQLite::Database& db) {
  if (in_transaction(db))
    db.tryExec("ROLLBACK");
}

// While a migration's SQL runs, statements that would end or split its transaction
// (BEGIN, COMMIT, ROLLBACK, SAVEPOINT …) and PRAGMA foreign_keys (a silent no-op inside
// a transaction) are refused when prepared, so a migration is all or nothing.
struct migration_guard {
  SQLite::Database& db;
  std::string refused;  // what was refused, for the error message

  explicit migration_guard(SQLite::Database& d) : db(d) {
    sqlite3_set_authorizer(db.getHandle(), &authorize, this);
  }
  ~migration_guard() { sqlite3_set_authorizer(db.getHandle(), nullptr, nullptr); }
  migration_guard(const migration_guard&) = delete;
  migration_guard& operator=(const migration_guard&) = delete;

  static int authorize(void* ctx, int action, const char* arg1, const char*, const char*, const char*) {
    auto* self = static_cast<migration_guard*>(ctx);
    if (action == SQLITE_TRANSACTION || action == SQLITE_SAVEPOINT) {
      self->refused = "migrations must not contain BEGIN/COMMIT/ROLLBACK/SAVEPOINT: each runs in its own transaction";
      return SQLITE_DENY;
    }
    if (action == SQLITE_PRAGMA && arg1 && sqlite3_stricmp(arg1, "foreign_keys") == 0) {
      self->refused = "migrations must not change PRAGMA foreign_keys (use PRAGMA defer_foreign_keys=ON)";
      return SQLITE_DENY;
    }
    return SQLITE_OK;
  }
};

// Applies one migration in its own transaction. Returns false when another process
// applied it meanwhile (nothing done). Throws on failure, with nothing of it applied.
bool apply_one(SQLite::Database& db, const migration& m) {
  db.exec("BEGIN IMMEDIATE");
  try {
    // Re-checked under the write lock: two processes starting together apply it once.
    SQLite::Statement done(db, "SELECT 1 FROM schema_migrations WHERE version = ?");
    done.bind(1, m.version);
    if (done.executeStep()) {
      db.exec("ROLLBACK");
      return false;
    }
    {
      migration_guard guard(db);
      try {
        db.exec(m.sql);
      } catch (const SQLite::Exception&) {
        if (!guard.refused.empty())
          throw std::runtime_error(guard.refused);
        throw;
      }
    }
    if (!in_transaction(db))  // cannot happen with the guard; never record a half-applied migration
      throw std::runtime_error("it ended its own transaction (migrations must not contain BEGIN/COMMIT)");
    SQLite::Statement fk(db, "PRAGMA foreign_key_check");
    if (fk.executeStep())
      throw std::runtime_error("it leaves rows violating a foreign key (table " + fk.getColumn(0).getString() + ")");
    SQLite::Statement record(db, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
    record.bind(1, m.version);
    record.bind(2, m.name);
    record.bind(3, static_cast<int64_t>(std::time(nullptr)));
    record.exec();
    db.exec("COMMIT");
    return true;
  } catch (...) {
    rollback_quietly(db);
    throw;
  }
}

} // namespace

std::string check_migrations(const std::vector<migration>& all) {
  int previous = 0;
  for (const auto& m : all) {
    auto label = "migration " + std::to_string(m.version) + (m.name ? std::string(" (") + m.name + ")" : "");
    if (!m.name || !*m.name || !m.sql)
      return label + " has no name or no SQL";
    if (m.version <= 0)
      return label + ": versions must be positive";
    if (m.version == previous)
      return label + ": version " + std::to_string(m.version) + " appears twice";
    if (m.version < previous)
      return label + ": versions must be strictly increasing (it follows " + std::to_string(previous) + ")";
    previous = m.version;
  }
  return {};
}

int schema_version(SQLite::Database& db) {
  if (!db.tableExists("schema_migrations"))
    return 0;
  return db.execAndGet("SELECT coalesce(max(version), 0) FROM schema_migrations").getInt();
}

std::optional<std::vector<std::string>> migrate(SQLite::Database& db, const std::vector<migration>& all,
                                                std::string* error) {
  auto fail = [&](std::string message) -> std::optional<std::vector<std::string>> {
    if (error)
      *error = std::move(message);
    return std::nullopt;
  };
  if (auto problem = check_migrations(all); !problem.empty())
    return fail("invalid migration list (a build error): " + problem);
  if (in_transaction(db))
    return fail("cannot migrate inside an open transaction");
  const int newest_known = all.empty() ? 0 : all.back().version;

  std::vector<std::string> applied_now;
  try {
    db.exec(create_history_table);
    auto applied = applied_migrations(db);
    const int newest_applied = applied.empty() ? 0 : applied.rbegin()->first;
    if (newest_applied > newest_known)
      return fail("database schema version " + std::to_string(newest_applied) +
                  " is newer than this relayhost (knows up to " + std::to_string(newest_known) +
                  "); upgrade relayhost");

    // The database's history must be a prefix of ours, name for name.
    std::map<int, const migration*> known;
    for (const auto& m : all)
      known.emplace(m.version, &m);
    for (const auto& [version, name] : applied) {
      auto it = known.find(version);
      if (it == known.end())
        return fail("database has migration " + std::to_string(version) + " (\"" + name +
                    "\") that this relayhost does not know");
      if (name != it->second->name)
        return fail("database has migration " + std::to_string(version) + " recorded as \"" + name +
                    "\" but this relayhost calls it \"" + it->second->name + "\"");
    }

    for (const auto& m : all) {
      if (applied.count(m.version))
        continue;
      if (m.version < newest_applied)
        return fail(std::string("migration ") + m.name + " was never applied to this database although " +
                    "later ones were; refusing to apply it out of order");
      try {
        if (apply_one(db, m))
          applied_now.emplace_back(m.name);
      } catch (const std::exception& e) {
        return fail(std::string("migration ") + m.name + " failed and was rolled back: " + e.what());
      }
    }
  } catch (const std::exception& e) {
    rollback_quietly(db);
    return fail(std::string("cannot read the migration history: ") + e.what());
  }
  return applied_now;
}

} // namespace relayhost::storage
