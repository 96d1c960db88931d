#include "storage/wal_checkpointer.hpp"

#include <condition_variable>
#include <mutex>
#include <pthread.h>
#include <thread>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <sqlite3.h>

#include "core/log.hpp"

namespace relayhost::storage {

namespace {

// SQLite's autocheckpoint threshold, restored on the writer when the checkpointer stops.
constexpr int sqlite_default_autocheckpoint = 1000;

} // namespace

struct wal_checkpointer::impl {
  checkpoint_options opts;
  sqlite3* writer = nullptr;
  std::unique_ptr<SQLite::Database> conn;  // the checkpointer's own connection
  checkpoint_counters counters;
  // Frames of the current WAL generation already copied back (by the thread's latest
  // checkpoint); the writer wakes the thread when `wake_pages` more are in the WAL.
  std::atomic<int64_t> backfilled{0};
  std::atomic<bool> requested{false};
  std::mutex mu;
  std::condition_variable cv;
  // Held while a checkpoint runs, by the thread or by the writer past reset_pages:
  // SQLite refuses a second checkpointer at once (SQLITE_BUSY, no busy handler), and
  // the writer's checkpoint must run.
  std::mutex checkpointing;
  bool stopping = false;  // guarded by mu
  std::thread thread;

  // The writer's WAL hook: runs on the writer's thread after each commit, with the
  // number of frames in the WAL. Cheap unless a bound is passed.
  static int on_commit(void* ctx, sqlite3* db, const char* name, int frames) {
    auto* self = static_cast<impl*>(ctx);
    self->counters.wal_frames.store(frames, std::memory_order_relaxed);
    if (frames >= self->opts.reset_pages) {
      // The WAL is reset only by a write that finds it wholly copied back, which a
      // busy writer never does while the thread copies behind it. The writer finishes
      // the copy itself (only what the thread has not done yet, usually a few pages;
      // SQLite's autocheckpoint would copy up to 1000, 16× as often); its next write
      // then starts the WAL from its beginning. It also bounds the WAL if the thread
      // is stuck. If the thread is checkpointing right now, the writer leaves it be
      // (a later commit tries again, with less to copy) unless the WAL is at twice
      // the bound: then it waits for the thread's checkpoint to end.
      int log = 0, done = 0;
      std::unique_lock<std::mutex> one_at_a_time(self->checkpointing, std::defer_lock);
      if (frames / 2 < self->opts.reset_pages) {
        if (!one_at_a_time.try_lock())
          return SQLITE_OK;
      } else {
        one_at_a_time.lock();
      }
      if (sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, &log, &done) == SQLITE_OK)
        self->counters.writer_checkpoints.fetch_add(1, std::memory_order_relaxed);
      else
        self->counters.failures.fetch_add(1, std::memory_order_relaxed);
      return SQLITE_OK;
    }
    auto base = self->backfilled.load(std::memory_order_relaxed);
    if (frames < base)
      base = 0;  // the WAL was reset since
    if (frames - base >= self->opts.wake_pages && !self->requested.exchange(true, std::memory_order_acq_rel)) {
      std::lock_guard<std::mutex> lk(self->mu);
      self->cv.notify_one();
    }
    return SQLITE_OK;
  }

  void checkpoint() {
    auto* db = conn->getHandle();
    int log = 0, done = 0;
    std::unique_lock<std::mutex> one_at_a_time(checkpointing);
    int rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    one_at_a_time.unlock();
    if (rc != SQLITE_OK || log < 0 || done < 0) {
      counters.failures.fetch_add(1, std::memory_order_relaxed);
      // The writer's bound keeps the WAL finite meanwhile. Busy: another process (a
      // backup, the sqlite3 shell) is checkpointing; the next wake-up tries again.
      log::write(rc == SQLITE_BUSY ? log::level::debug : log::level::warn, "background WAL checkpoint failed",
                 {{"detail", sqlite3_errmsg(db)}});
      return;
    }
    counters.passive.fetch_add(1, std::memory_order_relaxed);
    auto before = backfilled.exchange(done, std::memory_order_relaxed);
    counters.pages_backfilled.fetch_add(static_cast<uint64_t>(done >= before ? done - before : done),
                                        std::memory_order_relaxed);
  }

  void run() {
    std::unique_lock<std::mutex> lk(mu);
    while (!stopping) {
      cv.wait_for(lk, opts.interval, [&] { return stopping || requested.load(std::memory_order_acquire); });
      if (stopping)
        break;
      bool woken = requested.exchange(false, std::memory_order_acq_rel);
      // On the timer, only when the WAL holds frames not copied back yet.
      if (!woken) {
        auto frames = counters.wal_frames.load(std::memory_order_relaxed);
        auto copied = backfilled.load(std::memory_order_relaxed);
        if (frames < copied)
          copied = 0;  // the WAL was reset since
        if (frames <= copied)
          continue;
      }
      lk.unlock();
      try {
        checkpoint();
      } catch (...) {
        counters.failures.fetch_add(1, std::memory_order_relaxed);
      }
      lk.lock();
    }
  }
};

wal_checkpointer::wal_checkpointer(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

std::unique_ptr<wal_checkpointer> wal_checkpointer::start(SQLite::Database& writer, checkpoint_options opts,
                                                          std::string* error) {
  auto p = std::make_unique<impl>();
  p->opts = opts;
  p->writer = writer.getHandle();
  try {
    p->conn = std::make_unique<SQLite::Database>(writer.getFilename(), SQLite::OPEN_READWRITE);
    // A connection opens the WAL on its first read; until then a checkpoint through
    // it does nothing (and reports -1 frames).
    p->conn->execAndGet("SELECT count(*) FROM sqlite_schema");
    auto mode = p->conn->execAndGet("PRAGMA journal_mode").getString();
    if (mode != "wal") {
      if (error)
        *error = "the database is not in WAL mode (\"" + mode + "\")";
      return nullptr;
    }
  } catch (const SQLite::Exception& e) {
    if (error)
      *error = std::string("cannot open the checkpoint connection: ") + e.what();
    return nullptr;
  }
  auto* raw = p.get();
  p->thread = std::thread([raw] {
    pthread_setname_np(pthread_self(), "rh-checkpoint");
    raw->run();
  });
  // Replaces SQLite's autocheckpoint (itself a WAL hook) on the writer.
  sqlite3_wal_hook(p->writer, &impl::on_commit, raw);
  return std::unique_ptr<wal_checkpointer>(new wal_checkpointer(std::move(p)));
}

wal_checkpointer::~wal_checkpointer() {
  sqlite3_wal_autocheckpoint(impl_->writer, sqlite_default_autocheckpoint);
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_one();
  if (impl_->thread.joinable())
    impl_->thread.join();
}

const checkpoint_counters& wal_checkpointer::counters() const {
  return impl_->counters;
}

} // namespace relayhost::storage
