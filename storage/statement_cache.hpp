// Prepared statements kept across writes on the storage actor's connection.
// Preparing the relays INSERT (CHECKs, indexes, a foreign key) costs ~50 µs here
// against ~14 µs to run it, so re-preparing every time dominated a write.
//
// The cache belongs to whoever owns the connection (the storage actor) and is
// made current only while that owner runs a write or read on its thread
// (statement_cache::scope). Query code calls `prepare(db, sql)`: with a current
// cache for that connection it gets the cached statement, reset and unbound;
// otherwise (tests on a bare connection) a fresh one. So a cached statement can
// never outlive its connection or be used from another thread.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include <SQLiteCpp/Statement.h>

namespace SQLite {
class Database;
}

namespace relayhost::storage {

class statement_cache {
public:
  explicit statement_cache(SQLite::Database& db) : db_(db) {}

  /// Makes `cache` current on this thread for its lifetime.
  class scope {
  public:
    explicit scope(statement_cache* cache);
    ~scope();
    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;

  private:
    statement_cache* previous_;
  };

  /// Drops every statement (before the connection closes).
  void clear() { statements_.clear(); }

private:
  friend class statement_ref;
  SQLite::Database& db_;
  std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> statements_;
};

/// A statement to bind and step: cached (reset on release) or owned.
class statement_ref {
public:
  statement_ref(SQLite::Database& db, const std::string& sql);
  ~statement_ref();
  statement_ref(const statement_ref&) = delete;
  statement_ref& operator=(const statement_ref&) = delete;

  SQLite::Statement& operator*() { return *stmt_; }
  SQLite::Statement* operator->() { return stmt_; }

private:
  std::unique_ptr<SQLite::Statement> owned_;
  SQLite::Statement* stmt_ = nullptr;
  bool cached_ = false;
};

} // namespace relayhost::storage
