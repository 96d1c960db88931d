#include "storage/statement_cache.hpp"

#include <SQLiteCpp/Database.h>

namespace relayhost::storage {

namespace {
thread_local statement_cache* current = nullptr;
} // namespace

statement_cache::scope::scope(statement_cache* cache) : previous_(current) {
  current = cache;
}

statement_cache::scope::~scope() {
  current = previous_;
}

statement_ref::statement_ref(SQLite::Database& db, const std::string& sql) {
  if (current && &current->db_ == &db) {
    auto& slot = current->statements_[sql];
    if (!slot)
      slot = std::make_unique<SQLite::Statement>(db, sql);
    stmt_ = slot.get();
    cached_ = true;
  } else {
    owned_ = std::make_unique<SQLite::Statement>(db, sql);
    stmt_ = owned_.get();
  }
}

statement_ref::~statement_ref() {
  if (cached_) {
    // Ready for the next use; a reset never throws for a statement that was stepped.
    try {
      stmt_->reset();  // rethrows the last step's error, which is already handled
    } catch (...) {
    }
    try {
      stmt_->clearBindings();
    } catch (...) {
    }
  }
}

} // namespace relayhost::storage
