#include "actors/storage_actor.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/spawn_options.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <sqlite3.h>

#include "actors/errc_caf.hpp"
#include "core/log.hpp"
#include "storage/errors.hpp"

namespace relayhost {

namespace {

// The savepoint that isolates one write inside the batch's transaction.
const std::string savepoint_begin = "SAVEPOINT rh_write";
const std::string savepoint_release = "RELEASE rh_write";
constexpr const char* savepoint_undo = "ROLLBACK TO rh_write";
const std::string begin_immediate = "BEGIN IMMEDIATE";
const std::string commit_transaction = "COMMIT";
const std::string query_only_on = "PRAGMA query_only=ON";
const std::string query_only_off = "PRAGMA query_only=OFF";

void raise_to(std::atomic<uint64_t>& counter, uint64_t value) {
  auto current = counter.load(std::memory_order_relaxed);
  while (value > current && !counter.compare_exchange_weak(current, value, std::memory_order_relaxed)) {
  }
}

// Runs one of the actor's own control statements (BEGIN, COMMIT, SAVEPOINT, …)
// prepared once and kept: Database::exec prepares the text on every call, and a
// relay creation runs six of them. Throws SQLite::Exception as exec does.
void run_control(SQLite::Database& db, storage::statement_cache* cache, const std::string& sql) {
  storage::statement_cache::scope use(cache);
  storage::statement_ref st(db, sql);
  st->exec();
}

bool sqlite_in_transaction(SQLite::Database& db) {
  return sqlite3_get_autocommit(db.getHandle()) == 0;
}

/// Why an operation failed: the API error for its requester, and what to log.
struct failure {
  errc code = errc::internal;
  std::string message;  // for the client
  std::string detail;   // for the log (SQLite's message: names tables and constraints, never values)
  int sqlite_code = 0;
};

// Must be called from inside a catch block.
failure current_failure() {
  try {
    throw;
  } catch (const storage::rejected& e) {
    return {e.code(), e.what(), e.what(), 0};
  } catch (const SQLite::Exception& e) {
    auto code = storage::classify_sqlite_error(e.getExtendedErrorCode());
    return {code, storage::public_message_for(e.getExtendedErrorCode()), e.what(), e.getExtendedErrorCode()};
  } catch (const std::exception& e) {
    return {errc::internal, storage::public_message(errc::internal), e.what(), 0};
  } catch (...) {
    return {errc::internal, storage::public_message(errc::internal), "unknown exception", 0};
  }
}

void log_failure(std::string_view what, const std::string& label, const failure& f) {
  // A conflict or a deliberate rejection is an ordinary answer (409, 404 …), not a fault.
  // A busy database is transient (503); anything else is a fault worth an error line.
  auto lvl = f.sqlite_code == 0 && f.code != errc::internal ? log::level::debug
             : f.code == errc::conflict                      ? log::level::info
             : f.code == errc::unavailable                   ? log::level::warn
                                                             : log::level::error;
  if (!log::enabled(lvl))
    return;
  log::write(lvl, what,
             {{"label", label},
              {"code", std::string(api_code(f.code))},
              {"sqlite_code", std::to_string(f.sqlite_code)},
              {"detail", f.detail}});
}

} // namespace

// -- state --------------------------------------------------------------------

storage_state::storage_state() = default;

storage_state::~storage_state() {
  try {
    if (db && in_transaction) {
      log::info("storage stopping: committing the open batch", {{"writes", std::to_string(pending.size())}});
      commit();
    }
  } catch (...) {
    // Nothing may escape a destructor; commit() already answered or logged.
  }
  checkpointer.reset();
  statements.reset();
  db.reset();
}

void storage_state::fail_pending(const caf::error& err) {
  auto failed = std::move(pending);
  pending.clear();
  counters->writes_failed.fetch_add(failed.size(), std::memory_order_relaxed);
  for (auto& w : failed)
    w.promise.deliver(err);
}

void storage_state::commit() {
  if (!in_transaction)
    return;
  in_transaction = false;
  batch_attempts = 0;
  try {
    run_control(*db, statements.get(), commit_transaction);
  } catch (...) {
    auto f = current_failure();
    log::error("storage commit failed; its writes are rolled back",
               {{"writes", std::to_string(pending.size())},
                {"sqlite_code", std::to_string(f.sqlite_code)},
                {"detail", f.detail}});
    if (sqlite_in_transaction(*db))
      db->tryExec("ROLLBACK");
    counters->transactions_failed.fetch_add(1, std::memory_order_relaxed);
    auto code = f.code == errc::unavailable ? errc::unavailable : errc::internal;
    fail_pending(make_api_error(code, code == errc::unavailable ? f.message : storage::public_message(code)));
    return;
  }
  auto done = std::move(pending);
  pending.clear();
  counters->transactions_committed.fetch_add(1, std::memory_order_relaxed);
  counters->writes_committed.fetch_add(done.size(), std::memory_order_relaxed);
  counters->last_batch_size.store(done.size(), std::memory_order_relaxed);
  raise_to(counters->largest_batch, done.size());
  // Answered only now: a requester never hears "saved" for something a crash could lose.
  for (auto& w : done)
    w.promise.deliver(true);
}

// -- behavior -------------------------------------------------------------------

namespace {

using self_pointer = instrumented_pointer<storage_actor, storage_state>;

// Runs one write inside the open transaction, isolated by a savepoint. On success it
// joins the pending batch; on failure only its own changes are undone and it alone
// is answered (unless SQLite aborted the whole transaction: then the batch fails).
void run_write(storage_state& st, storage_write& w, caf::typed_response_promise<bool>& rp) {
  auto& db = *st.db;
  bool savepoint = false;
  try {
    run_control(db, st.statements.get(), savepoint_begin);
    savepoint = true;
    {
      storage::statement_cache::scope use(st.statements.get());
      w.apply(db);
    }
    run_control(db, st.statements.get(), savepoint_release);
    st.pending.push_back({rp, w.label});
    return;
  } catch (...) {
    auto f = current_failure();
    log_failure("storage write failed", w.label, f);
    if (!sqlite_in_transaction(db)) {
      // Some errors (I/O, disk full, …) make SQLite roll back the whole transaction:
      // the batch's earlier writes are gone too.
      log::error("storage transaction aborted by SQLite; its writes are lost",
                 {{"writes", std::to_string(st.pending.size())}});
      st.in_transaction = false;
      st.batch_attempts = 0;
      st.counters->transactions_failed.fetch_add(1, std::memory_order_relaxed);
      st.fail_pending(make_api_error(errc::internal, storage::public_message(errc::internal)));
    } else if (savepoint) {
      if (db.tryExec(savepoint_undo) != SQLITE_OK || db.tryExec(savepoint_release) != SQLITE_OK) {
        log::error("storage cannot undo a failed write alone; its batch is rolled back",
                   {{"label", w.label}, {"detail", db.getErrorMsg()}});
        db.tryExec("ROLLBACK");
        st.in_transaction = false;
        st.batch_attempts = 0;
        st.counters->transactions_failed.fetch_add(1, std::memory_order_relaxed);
        st.fail_pending(make_api_error(errc::internal, storage::public_message(errc::internal)));
      }
    }
    st.counters->writes_failed.fetch_add(1, std::memory_order_relaxed);
    rp.deliver(make_api_error(f.code, std::move(f.message)));
  }
}

} // namespace

storage_actor::behavior_type make_storage(self_pointer self, std::unique_ptr<SQLite::Database> db,
                                          storage_options opts) {
  auto& st = self->state;
  st.db = std::move(db);
  st.statements = std::make_unique<storage::statement_cache>(*st.db);
  st.opts = std::move(opts);
  st.counters = st.opts.counters ? st.opts.counters : std::make_shared<storage_counters>();
  if (st.opts.max_batch == 0)
    st.opts.max_batch = 1;
  if (!st.db) {
    log::error("storage actor started without a database");
    self->quit(make_api_error(errc::internal, "no database"));
    return storage_actor::behavior_type::make_empty_behavior();
  }
  st.db->setBusyTimeout(static_cast<int>(st.opts.busy_timeout.count()));
  if (st.opts.background_checkpoints) {
    std::string error;
    st.checkpointer = storage::wal_checkpointer::start(*st.db, st.opts.checkpoints, &error);
    if (!st.checkpointer)
      log::warn("WAL checkpoints stay on the write path", {{"error", error}});
  }
  return {
    [self](write_atom, storage_write& w) -> caf::typed_response_promise<bool> {
      auto& st = self->state;
      auto rp = self->make_response_promise<bool>();
      if (!w.apply) {
        log::error("storage write without a function", {{"label", w.label}});
        st.counters->writes_failed.fetch_add(1, std::memory_order_relaxed);
        rp.deliver(make_api_error(errc::internal, storage::public_message(errc::internal)));
        return rp;
      }
      if (w.deadline != std::chrono::steady_clock::time_point{} && std::chrono::steady_clock::now() > w.deadline) {
        // Waited too long behind a slow or stuck disk: not run, and the requester
        // knows it (an outcome, not a guess).
        log::warn("storage write expired before it ran", {{"label", w.label}});
        st.counters->writes_failed.fetch_add(1, std::memory_order_relaxed);
        rp.deliver(make_api_error(errc::unavailable, storage::public_message(errc::unavailable)));
        return rp;
      }
      if (!st.in_transaction) {
        try {
          // IMMEDIATE: take the write lock now, so no statement of the batch can fail
          // later for want of it.
          run_control(*st.db, st.statements.get(), begin_immediate);
          st.in_transaction = true;
        } catch (...) {
          auto f = current_failure();
          log_failure("storage cannot begin a transaction", w.label, f);
          st.counters->writes_failed.fetch_add(1, std::memory_order_relaxed);
          auto code = f.code == errc::unavailable ? errc::unavailable : errc::internal;
          rp.deliver(make_api_error(code, storage::public_message(code)));
          return rp;
        }
      }
      ++st.batch_attempts;
      run_write(st, w, rp);
      if (!st.in_transaction)
        return rp;
      // Group commit: keep the transaction open while more messages wait (they are
      // probably writes that can share the commit), commit when the mailbox is empty
      // or the batch is full.
      if (st.batch_attempts >= st.opts.max_batch || self->mailbox().empty()) {
        st.commit();
      } else if (!st.flush_scheduled) {
        // Safety net: whatever the waiting messages are, this flush (queued behind
        // them) closes the batch, so it can never stay open.
        st.flush_scheduled = true;
        self->send(caf::actor_cast<storage_actor>(self), flush_atom::value);
      }
      return rp;
    },
    [self](read_atom, storage_read& r) -> caf::result<bool> {
      auto& st = self->state;
      st.commit();  // a read sees every write answered before it
      st.counters->reads.fetch_add(1, std::memory_order_relaxed);
      if (!r.run) {
        log::error("storage read without a function", {{"label", r.label}});
        st.counters->reads_failed.fetch_add(1, std::memory_order_relaxed);
        return make_api_error(errc::internal, storage::public_message(errc::internal));
      }
      auto& db = *st.db;
      try {
        // A read that tries to write fails instead of writing outside any batch.
        run_control(db, st.statements.get(), query_only_on);
        {
          storage::statement_cache::scope use(st.statements.get());
          r.run(db);
        }
        run_control(db, st.statements.get(), query_only_off);
        return true;
      } catch (...) {
        auto f = current_failure();
        if ((f.sqlite_code & 0xff) == SQLITE_READONLY) {
          // Under query_only this is the read function trying to write: a bug in
          // relayhost, not a read-only disk (reads do not write to the file).
          f.code = errc::internal;
          f.message = storage::public_message(errc::internal);
        }
        db.tryExec("PRAGMA query_only=OFF");
        if (sqlite_in_transaction(db))
          db.tryExec("ROLLBACK");
        log_failure("storage read failed", r.label, f);
        st.counters->reads_failed.fetch_add(1, std::memory_order_relaxed);
        return make_api_error(f.code, std::move(f.message));
      }
    },
    [self](ping_atom) -> caf::result<bool> {
      auto& st = self->state;
      st.commit();
      auto& db = *st.db;
      // Proves the connection works and can take the write lock, without waiting
      // long for it (/healthz answers within 1 s).
      db.setBusyTimeout(static_cast<int>(st.opts.ping_busy_timeout.count()));
      bool ok = db.tryExec("BEGIN IMMEDIATE") == SQLITE_OK;
      std::string detail = ok ? std::string{} : std::string(db.getErrorMsg());
      if (sqlite_in_transaction(db) && db.tryExec("ROLLBACK") != SQLITE_OK) {
        ok = false;
        detail = db.getErrorMsg();
      }
      db.setBusyTimeout(static_cast<int>(st.opts.busy_timeout.count()));
      if (!ok) {
        log::warn("storage ping failed", {{"detail", detail}});
        return make_api_error(errc::unavailable, "the database is not answering");
      }
      return true;
    },
    [self](flush_atom) {
      auto& st = self->state;
      st.flush_scheduled = false;
      st.commit();
    },
  };
}

storage_actor spawn_storage(caf::actor_system& sys, std::unique_ptr<SQLite::Database> db,
                            storage_options opts) {
  return sys.spawn<caf::detached>(make_storage, std::move(db), std::move(opts));
}

} // namespace relayhost
