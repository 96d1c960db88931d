// The storage actor: the only owner of the SQLite connection. Writes are group
// committed: a write joins the open transaction (inside its own savepoint), and the
// transaction commits when the mailbox has nothing more for it (or the batch is
// full); only then are its writes answered. Reads and pings commit pending writes
// first. It blocks on disk, so the application spawns it detached (spawn_storage).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/fwd.hpp"
#include "actors/instrumented.hpp"
#include "storage/database.hpp"
#include "storage/statement_cache.hpp"
#include "storage/wal_checkpointer.hpp"

namespace relayhost {

/// Most writes one transaction holds before it commits even with more waiting.
inline constexpr size_t default_storage_max_batch = 512;

/// How long a health ping waits for the write lock before answering unavailable
/// (GET /healthz must answer within 1 s).
inline constexpr std::chrono::milliseconds default_ping_busy_timeout{250};

/// The storage actor's counters. Atomic so that another thread (the metrics
/// exporter) can read them while the actor runs; only the actor writes them.
struct storage_counters {
  std::atomic<uint64_t> transactions_committed{0};
  std::atomic<uint64_t> transactions_failed{0};  // COMMIT failed or SQLite aborted the transaction
  std::atomic<uint64_t> writes_committed{0};
  std::atomic<uint64_t> writes_failed{0};        // answered with an error, alone or with their batch
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> reads_failed{0};
  std::atomic<uint64_t> largest_batch{0};        // most writes committed by one transaction
  std::atomic<uint64_t> last_batch_size{0};      // writes committed by the latest transaction
};

struct storage_options {
  size_t max_batch = default_storage_max_batch;
  /// The connection's busy timeout (restored after a ping).
  std::chrono::milliseconds busy_timeout = storage::default_busy_timeout;
  std::chrono::milliseconds ping_busy_timeout = default_ping_busy_timeout;
  /// Shared with whoever exports them; null: the actor keeps its own.
  std::shared_ptr<storage_counters> counters;
  /// WAL checkpoints on a thread of their own (storage/wal_checkpointer.hpp) instead
  /// of inside the committing write; off: SQLite's autocheckpoint.
  bool background_checkpoints = true;
  storage::checkpoint_options checkpoints;
};

struct storage_state {
  static inline const char* name = "storage";

  /// A write that succeeded inside the open transaction, answered when it commits.
  struct pending_write {
    caf::typed_response_promise<bool> promise;
    std::string label;
  };

  std::unique_ptr<SQLite::Database> db;
  // Prepared statements of `db`, current while a write or read runs (dropped first).
  std::unique_ptr<storage::statement_cache> statements;
  // Checkpoints `db`'s WAL in the background; stopped before `db` closes.
  std::unique_ptr<storage::wal_checkpointer> checkpointer;
  storage_options opts;
  std::shared_ptr<storage_counters> counters;
  bool in_transaction = false;   // BEGIN IMMEDIATE issued, not yet committed
  bool flush_scheduled = false;  // a flush_atom to ourselves is in the mailbox
  size_t batch_attempts = 0;     // writes run in the open transaction, failed ones included
  std::vector<pending_write> pending;

  storage_state();
  /// Commits what succeeded of the open batch and answers it, then closes the connection.
  ~storage_state();

  /// Commits the open transaction, if any, and answers its writes: true once
  /// committed, or every one of them the error if the commit failed.
  void commit();

  /// Answers every pending write with `err` (their transaction is gone).
  void fail_pending(const caf::error& err);
};

/// The storage actor's behavior. Tests spawn it with `sys.spawn(make_storage, …)`;
/// the application uses spawn_storage. The database must be open and migrated.
storage_actor::behavior_type make_storage(instrumented_pointer<storage_actor, storage_state> self,
                                          std::unique_ptr<SQLite::Database> db, storage_options opts);

/// Spawns the storage actor detached (its own thread: it blocks on disk and must not
/// hold a scheduler worker). Not for the test coordinator, which cannot run detached
/// actors deterministically.
storage_actor spawn_storage(caf::actor_system& sys, std::unique_ptr<SQLite::Database> db,
                            storage_options opts);

} // namespace relayhost
