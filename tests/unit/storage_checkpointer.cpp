// The background WAL checkpointer (storage/wal_checkpointer.hpp) on a real file
// database: it checkpoints what the writer commits, the WAL stays bounded even when
// the thread cannot keep up, commits no longer checkpoint inline below the bound,
// and every committed row is there after the database is reopened.
#define CAF_SUITE storage_checkpointer
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <climits>
#include <filesystem>
#include <string>
#include <thread>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "storage/wal_checkpointer.hpp"

#include "tests/support/checks.hpp"
#include "tests/support/temp_db.hpp"

using namespace relayhost;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string tenant_a = std::string(64, 'a');

// One relay per transaction, as the storage actor commits a lone write.
void insert_relays(SQLite::Database& db, int from, int count) {
  SQLite::Statement st(db, "INSERT INTO relays (id, tenant, subdomain, name, plan, secret_enc, created_at, "
                           "updated_at) VALUES (?, ?, ?, 'Name', 'basic', x'00', 1, 1)");
  for (int i = from; i < from + count; ++i) {
    st.bind(1, "r" + std::to_string(i));
    st.bind(2, tenant_a);
    st.bind(3, "relay-" + std::to_string(i));
    st.exec();
    st.reset();
  }
}

std::unique_ptr<SQLite::Database> writer_for(const test::temp_db& tdb) {
  auto db = tdb.open();
  db->exec("INSERT INTO tenants (pubkey, created_at, updated_at) VALUES ('" + tenant_a + "', 1, 1)");
  return db;
}

uintmax_t wal_bytes(const test::temp_db& tdb) {
  std::error_code ec;
  auto n = fs::file_size(tdb.path() + "-wal", ec);
  return ec ? 0 : n;
}

// The most a WAL of `frames` frames can take on disk (4 KiB pages, frame headers).
uintmax_t wal_bytes_for(int frames) {
  return 32 + static_cast<uintmax_t>(frames) * (4096 + 24);
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

int64_t relays_after_reopen(const test::temp_db& tdb) {
  auto db = tdb.open();
  REQUIRE_MSG(db->execAndGet("PRAGMA integrity_check").getString() == "ok", "integrity_check failed");
  return db->execAndGet("SELECT count(*) FROM relays").getInt64();
}

} // namespace

CAF_TEST(the checkpointer copies committed pages back and the data survives a reopen) {
  test::temp_db tdb;
  auto writer = writer_for(tdb);
  storage::checkpoint_options opts;
  opts.wake_pages = 50;
  opts.interval = 20ms;
  opts.reset_pages = 2000;
  std::string error;
  auto cp = storage::wal_checkpointer::start(*writer, opts, &error);
  REQUIRE_MSG(cp != nullptr, error);
  // SQLite's autocheckpoint is off on the writer while the checkpointer runs.
  CAF_CHECK_EQUAL(writer->execAndGet("PRAGMA wal_autocheckpoint").getInt(), 0);
  for (int round = 0; round < 20; ++round) {
    insert_relays(*writer, round * 100, 100);
    // Bounded at every point: the writer leaves a running checkpoint of the thread be
    // until twice reset_pages, then waits for it; plus one commit.
    CHECK_MSG(wal_bytes(tdb) <= wal_bytes_for(2 * opts.reset_pages + 50),
              "WAL grew to " + std::to_string(wal_bytes(tdb)) + " bytes");
  }
  auto& c = cp->counters();
  CAF_CHECK(eventually([&] { return c.passive.load() > 0 && c.pages_backfilled.load() > 0; }));
  cp.reset();
  // Stopped: the writer is back on SQLite's autocheckpoint.
  CAF_CHECK_EQUAL(writer->execAndGet("PRAGMA wal_autocheckpoint").getInt(), 1000);
  writer.reset();
  CAF_CHECK_EQUAL(relays_after_reopen(tdb), 2000);
}

CAF_TEST(an idle WAL is copied back on the timer and the next write restarts it) {
  test::temp_db tdb;
  auto writer = writer_for(tdb);
  storage::checkpoint_options opts;
  opts.wake_pages = 1 << 30;  // never woken by the writer: only the timer
  opts.interval = 10ms;
  std::string error;
  auto cp = storage::wal_checkpointer::start(*writer, opts, &error);
  REQUIRE_MSG(cp != nullptr, error);
  insert_relays(*writer, 0, 50);
  auto& c = cp->counters();
  // Not "> 50": the 10 ms timer may already have copied back and restarted the WAL
  // between two of these commits on a slow (sanitized) run; it only has to hold some.
  auto frames = c.wal_frames.load();
  CAF_CHECK_GREATER(frames, 0);
  CAF_CHECK(eventually([&] { return c.pages_backfilled.load() >= static_cast<uint64_t>(frames); }));
  // Wholly copied back: the next write starts the WAL from its beginning.
  insert_relays(*writer, 50, 1);
  CAF_CHECK_LESS(c.wal_frames.load(), 20);
  CAF_CHECK_EQUAL(c.writer_checkpoints.load(), 0u);
  cp.reset();
  writer.reset();
  CAF_CHECK_EQUAL(relays_after_reopen(tdb), 51);
}

CAF_TEST(commits do not checkpoint below reset_pages and the writer bounds the WAL past it) {
  test::temp_db tdb;
  auto writer = writer_for(tdb);
  storage::checkpoint_options opts;
  // A checkpointer that never gets to run: as if its thread were stuck.
  opts.wake_pages = 1 << 30;
  opts.interval = std::chrono::hours{1};
  opts.reset_pages = 1500;
  std::string error;
  auto cp = storage::wal_checkpointer::start(*writer, opts, &error);
  REQUIRE_MSG(cp != nullptr, error);
  auto& c = cp->counters();
  int64_t most_frames = 0;
  for (int i = 0; i < 600; ++i) {
    insert_relays(*writer, i, 1);
    most_frames = std::max(most_frames, c.wal_frames.load());
  }
  // Past SQLite's own 1000-page autocheckpoint without a checkpoint in the commit…
  CAF_CHECK_GREATER(most_frames, 1000);
  // …and bounded by the writer's own checkpoint past reset_pages.
  CAF_CHECK_GREATER(c.writer_checkpoints.load(), 0u);
  CAF_CHECK_EQUAL(c.passive.load(), 0u);
  CAF_CHECK_LESS_OR_EQUAL(most_frames, opts.reset_pages + 50);
  CAF_CHECK_LESS_OR_EQUAL(wal_bytes(tdb), wal_bytes_for(opts.reset_pages + 50));
  cp.reset();
  writer.reset();
  CAF_CHECK_EQUAL(relays_after_reopen(tdb), 600);
}
