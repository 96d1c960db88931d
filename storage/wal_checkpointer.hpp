// WAL checkpoints off the write path. SQLite's default makes the committing write
// checkpoint the WAL whenever it passes 1000 pages: that write copies the pages back
// into the database and fsyncs twice (1–4.5 ms here) while every other write waits
// behind it. The checkpointer takes that work to its own thread and connection:
//
//   - on the writer connection, SQLite's autocheckpoint is replaced by a WAL hook
//     that wakes the checkpointer once `wake_pages` new pages are in the WAL;
//   - the checkpointer runs PASSIVE checkpoints (they never block the writer), on
//     a wake-up or every `interval`;
//   - a bound: SQLite resets the WAL (the next write starts it from its beginning)
//     only when a write finds it wholly copied back, which a busy writer never does
//     while the thread copies behind it. Past `reset_pages` frames the committing
//     write checkpoints inline, as SQLite's autocheckpoint would, but usually has only
//     the last few pages to copy, and 16× less often; the WAL then restarts. While
//     the thread is mid-checkpoint the writer does not wait for it (a later commit
//     tries again) until the WAL reaches twice `reset_pages`. This also bounds the
//     WAL if the thread is stuck or failing.
//
// Pure storage code (no actors). The storage actor owns one for its connection.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace SQLite {
class Database;
}

namespace relayhost::storage {

struct checkpoint_options {
  /// New WAL pages (since the last checkpoint) that wake the checkpointer: SQLite's
  /// own autocheckpoint threshold, so checkpoints stay as frequent and as small.
  int wake_pages = 1000;
  /// A checkpoint at least this often while anything is waiting in the WAL.
  std::chrono::milliseconds interval{1000};
  /// Frames in the WAL past which the committing write checkpoints inline, so that the
  /// WAL restarts (~64 MiB of WAL at 4 KiB pages).
  int reset_pages = 16000;
};

/// Written by the checkpointer and the writer's hook; read by anyone.
struct checkpoint_counters {
  std::atomic<uint64_t> passive{0};           // PASSIVE checkpoints run by the thread
  std::atomic<uint64_t> writer_checkpoints{0};  // inline checkpoints past reset_pages
  std::atomic<uint64_t> failures{0};          // checkpoints that returned an error (BUSY included)
  std::atomic<uint64_t> pages_backfilled{0};  // pages copied back by the thread's checkpoints
  std::atomic<int64_t> wal_frames{0};         // frames in the WAL at the latest commit
};

class wal_checkpointer {
public:
  /// Opens a second connection to the writer's database file and starts the thread,
  /// then replaces the writer connection's autocheckpoint with the waking WAL hook.
  /// Call it on the thread that uses `writer` (or before anyone does). nullptr and
  /// *error on failure (the writer is left as it was).
  static std::unique_ptr<wal_checkpointer> start(SQLite::Database& writer, checkpoint_options opts,
                                                 std::string* error);

  /// Restores SQLite's autocheckpoint on the writer, then stops and joins the thread.
  /// Call it on the writer's thread, before the writer connection closes.
  ~wal_checkpointer();
  wal_checkpointer(const wal_checkpointer&) = delete;
  wal_checkpointer& operator=(const wal_checkpointer&) = delete;

  const checkpoint_counters& counters() const;

  struct impl;

private:
  explicit wal_checkpointer(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace relayhost::storage
