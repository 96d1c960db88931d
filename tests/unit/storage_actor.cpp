// The storage actor under the deterministic test coordinator, on a real file
// database: group commit, per-write failures, reads, health pings, and that no write
// is answered before the transaction holding it has committed.
#define CAF_SUITE storage_actor
#include <caf/test/dsl.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include "actors/errc_caf.hpp"
#include "actors/storage_actor.hpp"
#include "storage/database.hpp"
#include "storage/errors.hpp"
#include "storage/migrations.hpp"

#include "tests/support/checks.hpp"

using namespace relayhost;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "rh-storage-actor-XXXXXX").string();
    if (!mkdtemp(pattern.data()))
      CAF_FAIL("mkdtemp failed");
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

const std::string tenant_a = std::string(64, 'a');

// What a write or read came back with: true, or the API error code.
struct outcome {
  bool ok = false;
  errc code = errc::none;
  std::string message;
};

// Records, at every commit of the actor's connection, how many replies the test's
// requester had already received: a reply before its commit shows up as > 0.
struct commit_observer {
  caf::scoped_actor* requester = nullptr;
  std::vector<size_t> replies_at_commit;

  static int on_commit(void* ctx) {
    auto* self = static_cast<commit_observer*>(ctx);
    self->replies_at_commit.push_back((*self->requester)->mailbox().size());
    return 0;  // a commit hook: non-zero would turn the commit into a rollback
  }
};

struct fixture : test_coordinator_fixture<> {
  temp_dir dir;
  std::string path = (dir.path / "hosting.db").string();
  std::shared_ptr<storage_counters> counters = std::make_shared<storage_counters>();
  commit_observer observer;
  storage_actor storage;

  fixture() {
    start({});
  }

  ~fixture() override {
    stop();
  }

  void start(storage_options opts) {
    std::string error;
    auto db = storage::open_database(path, &error);
    REQUIRE_MSG(db != nullptr, error);
    REQUIRE_MSG(storage::migrate(*db, storage::embedded_migrations(), &error).has_value(), error);
    db->exec("INSERT OR IGNORE INTO tenants (pubkey, created_at, updated_at) VALUES ('" + tenant_a + "', 1, 1)");
    observer.requester = &self;
    // A commit hook (not a WAL hook: the storage actor installs its own, which wakes
    // its background checkpointer).
    sqlite3_commit_hook(db->getHandle(), &commit_observer::on_commit, &observer);
    opts.counters = counters;
    storage = sys.spawn(make_storage, std::move(db), std::move(opts));
    sched.run();
  }

  void stop() {
    if (storage) {
      self->send_exit(storage, caf::exit_reason::user_shutdown);
      sched.run();
      storage = nullptr;
    }
  }

  // Restarts the actor with other options (same database file).
  void restart(storage_options opts) {
    stop();
    counters = std::make_shared<storage_counters>();
    observer.replies_at_commit.clear();
    start(std::move(opts));
  }

  // A second connection, as another process would have.
  std::unique_ptr<SQLite::Database> other_connection() {
    auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE);
    db->exec("PRAGMA foreign_keys=ON");
    return db;
  }

  int64_t count_relays(const std::string& where = "1") {
    auto db = other_connection();
    return db->execAndGet("SELECT count(*) FROM relays WHERE " + where).getInt64();
  }

  static storage_write insert_relay(std::string id, std::string subdomain) {
    return {"relay.create", [id, subdomain](SQLite::Database& db) {
              SQLite::Statement st(db, "INSERT INTO relays (id, tenant, subdomain, name, plan, secret_enc, "
                                       "created_at, updated_at) VALUES (?, ?, ?, 'Name', 'basic', x'00', 1, 1)");
              st.bind(1, id);
              st.bind(2, tenant_a);
              st.bind(3, subdomain);
              st.exec();
            }};
  }

  using write_handle = decltype(std::declval<caf::scoped_actor&>()->request(
    std::declval<storage_actor&>(), caf::infinite, write_atom::value, std::declval<storage_write>()));

  write_handle write(storage_write w) {
    return self->request(storage, caf::infinite, write_atom::value, std::move(w));
  }

  // The reply of a request whose answer must already be in our mailbox (never blocks).
  template <class Handle>
  outcome result_of(Handle& h) {
    REQUIRE_MSG(!self->mailbox().empty(), "no reply has arrived");
    outcome out;
    h.receive([&](bool value) { out.ok = value; },
              [&](caf::error& err) {
                auto e = to_api_error(err);
                out.code = e.code;
                out.message = e.message;
              });
    return out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(storage_actor_tests, fixture)

CAF_TEST(writes waiting together share one transaction and are answered after it) {
  auto w1 = write(insert_relay("r1", "relay-one"));
  auto w2 = write(insert_relay("r2", "relay-two"));
  auto w3 = write(insert_relay("r3", "relay-three"));
  sched.run();
  CAF_CHECK(result_of(w1).ok);
  CAF_CHECK(result_of(w2).ok);
  CAF_CHECK(result_of(w3).ok);
  CAF_CHECK_EQUAL(counters->transactions_committed.load(), 1u);
  CAF_CHECK_EQUAL(counters->writes_committed.load(), 3u);
  CAF_CHECK_EQUAL(counters->writes_failed.load(), 0u);
  CAF_CHECK_EQUAL(counters->largest_batch.load(), 3u);
  CAF_CHECK_EQUAL(counters->last_batch_size.load(), 3u);
  CAF_CHECK_EQUAL(count_relays(), 3);
  // One commit, and when it happened not one reply had been sent yet.
  CAF_CHECK_EQUAL(observer.replies_at_commit, std::vector<size_t>{0});
}

CAF_TEST(a lone write commits at once) {
  auto w = write(insert_relay("r1", "relay-one"));
  sched.run();
  CAF_CHECK(result_of(w).ok);
  CAF_CHECK_EQUAL(counters->transactions_committed.load(), 1u);
  CAF_CHECK_EQUAL(counters->last_batch_size.load(), 1u);
  CAF_CHECK_EQUAL(observer.replies_at_commit, std::vector<size_t>{0});
  // The reply arrived: another connection (process) sees the row.
  CAF_CHECK_EQUAL(count_relays("id = 'r1'"), 1);
}

CAF_TEST(a failing write gets its own error and the rest of the batch commits) {
  other_connection()->exec("INSERT INTO relays (id, tenant, subdomain, name, plan, secret_enc, created_at, "
                           "updated_at) VALUES ('r0', '" + tenant_a + "', 'taken', 'n', 'basic', x'00', 1, 1)");
  auto w1 = write(insert_relay("r1", "relay-one"));
  auto w2 = write(insert_relay("r2", "taken"));  // UNIQUE(subdomain)
  auto w3 = write(insert_relay("r3", "relay-three"));
  auto w4 = write({"relay.bad", [](SQLite::Database& db) {
                     db.exec("INSERT INTO relays (id, tenant, subdomain, name, plan, secret_enc, created_at, "
                             "updated_at) VALUES ('r4', '" + tenant_a + "', '4-starts-with-digit', 'n', 'basic', "
                             "x'00', 1, 1)");
                   }});
  sched.run();
  CAF_CHECK(result_of(w1).ok);
  auto conflict = result_of(w2);
  CAF_CHECK(!conflict.ok);
  CAF_CHECK(conflict.code == errc::conflict);
  CAF_CHECK_EQUAL(conflict.message.find("taken"), std::string::npos);  // no data in messages
  CAF_CHECK(result_of(w3).ok);
  auto check_failure = result_of(w4);
  CAF_CHECK(check_failure.code == errc::internal);
  CAF_CHECK_EQUAL(check_failure.message, "internal error");
  CAF_CHECK_EQUAL(counters->transactions_committed.load(), 1u);
  CAF_CHECK_EQUAL(counters->writes_committed.load(), 2u);
  CAF_CHECK_EQUAL(counters->writes_failed.load(), 2u);
  CAF_CHECK_EQUAL(count_relays(), 3);  // r0, r1, r3
  CAF_CHECK_EQUAL(count_relays("id IN ('r2', 'r4')"), 0);
}

CAF_TEST(a failed write leaves nothing behind even when it wrote before failing) {
  auto w = write({"two.rows", [](SQLite::Database& db) {
                    db.exec("INSERT INTO relays (id, tenant, subdomain, name, plan, secret_enc, created_at, "
                            "updated_at) VALUES ('r1', '" + tenant_a + "', 'relay-one', 'n', 'basic', x'00', 1, 1)");
                    throw storage::rejected(errc::not_found, "no such invoice");
                  }});
  auto ok = write(insert_relay("r2", "relay-two"));
  sched.run();
  auto rejected = result_of(w);
  CAF_CHECK(rejected.code == errc::not_found);
  CAF_CHECK_EQUAL(rejected.message, "no such invoice");
  CAF_CHECK(result_of(ok).ok);
  CAF_CHECK_EQUAL(count_relays("id = 'r1'"), 0);
  CAF_CHECK_EQUAL(count_relays("id = 'r2'"), 1);
}

CAF_TEST(a failed commit fails every write of its batch and the actor carries on) {
  auto w1 = write(insert_relay("r1", "relay-one"));
  // A deferred foreign key violation only shows at COMMIT.
  auto w2 = write({"deferred.orphan", [](SQLite::Database& db) {
                     db.exec("PRAGMA defer_foreign_keys = ON");
                     db.exec("INSERT INTO relays (id, tenant, subdomain, name, plan, secret_enc, created_at, "
                             "updated_at) VALUES ('r2', '" + std::string(64, 'c') +
                             "', 'orphan', 'n', 'basic', x'00', 1, 1)");
                   }});
  sched.run();
  CAF_CHECK(result_of(w1).code == errc::internal);
  CAF_CHECK(result_of(w2).code == errc::internal);
  CAF_CHECK_EQUAL(counters->transactions_committed.load(), 0u);
  CAF_CHECK_EQUAL(counters->transactions_failed.load(), 1u);
  CAF_CHECK_EQUAL(counters->writes_failed.load(), 2u);
  CAF_CHECK_EQUAL(count_relays(), 0);
  auto again = write(insert_relay("r1", "relay-one"));
  sched.run();
  CAF_CHECK(result_of(again).ok);
  CAF_CHECK_EQUAL(count_relays(), 1);
}

CAF_TEST(a read sees the writes sent before it) {
  auto w = write(insert_relay("r1", "relay-one"));
  auto seen = std::make_shared<int64_t>(-1);
  auto r = self->request(storage, caf::infinite, read_atom::value,
                         storage_read{"relay.count", [seen](SQLite::Database& db) {
                                        *seen = db.execAndGet("SELECT count(*) FROM relays").getInt64();
                                      }});
  sched.run();
  CAF_CHECK(result_of(w).ok);
  CAF_CHECK(result_of(r).ok);
  CAF_CHECK_EQUAL(*seen, 1);
  CAF_CHECK_EQUAL(counters->transactions_committed.load(), 1u);
  CAF_CHECK_EQUAL(counters->reads.load(), 1u);
}

CAF_TEST(a read cannot write and a failing read reports its error) {
  auto writes = self->request(storage, caf::infinite, read_atom::value,
                              storage_read{"sneaky", [](SQLite::Database& db) {
                                             db.exec("DELETE FROM tenants");
                                           }});
  auto missing = self->request(storage, caf::infinite, read_atom::value,
                               storage_read{"tenant.get", [](SQLite::Database&) {
                                              throw storage::rejected(errc::not_found, "tenant not found");
                                            }});
  sched.run();
  CAF_CHECK(result_of(writes).code == errc::internal);
  auto nf = result_of(missing);
  CAF_CHECK(nf.code == errc::not_found);
  CAF_CHECK_EQUAL(nf.message, "tenant not found");
  CAF_CHECK_EQUAL(counters->reads_failed.load(), 2u);
  CAF_CHECK_EQUAL(other_connection()->execAndGet("SELECT count(*) FROM tenants").getInt64(), 1);
  // Writes still work afterwards (query_only was switched off again).
  auto w = write(insert_relay("r1", "relay-one"));
  sched.run();
  CAF_CHECK(result_of(w).ok);
}

CAF_TEST(max_batch bounds a transaction) {
  storage_options opts;
  opts.max_batch = 2;
  restart(opts);
  std::vector<write_handle> hs;
  for (int i = 0; i < 5; ++i)
    hs.push_back(write(insert_relay("r" + std::to_string(i), "relay-" + std::to_string(i))));
  sched.run();
  for (auto& h : hs)
    CAF_CHECK(result_of(h).ok);
  CAF_CHECK_EQUAL(counters->transactions_committed.load(), 3u);
  CAF_CHECK_EQUAL(counters->largest_batch.load(), 2u);
  CAF_CHECK_EQUAL(counters->writes_committed.load(), 5u);
  CAF_CHECK_EQUAL(count_relays(), 5);
  for (auto replies : observer.replies_at_commit)
    CAF_CHECK_LESS_OR_EQUAL(replies, 4u);  // at most the earlier batches' replies
}

CAF_TEST(ping answers true when the database is usable) {
  auto p = self->request(storage, caf::infinite, ping_atom::value);
  sched.run();
  CAF_CHECK(result_of(p).ok);
}

CAF_TEST(ping answers unavailable while another connection holds the write lock) {
  storage_options opts;
  opts.ping_busy_timeout = 20ms;
  opts.busy_timeout = 300ms;
  restart(opts);
  auto other = other_connection();
  other->exec("BEGIN IMMEDIATE");
  // Without a ping first, a write waits the configured busy timeout, not the default 5 s.
  auto before = std::chrono::steady_clock::now();
  auto w0 = write(insert_relay("r0", "relay-zero"));
  sched.run();
  auto waited0 = std::chrono::steady_clock::now() - before;
  CAF_CHECK(result_of(w0).code == errc::unavailable);
  CAF_CHECK_LESS(std::chrono::duration_cast<std::chrono::milliseconds>(waited0).count(), 2000);
  auto p = self->request(storage, caf::infinite, ping_atom::value);
  sched.run();
  auto busy = result_of(p);
  CAF_CHECK(!busy.ok);
  CAF_CHECK(busy.code == errc::unavailable);
  // After the ping, writes wait the full busy timeout again (it was restored), then
  // get `unavailable`, not a wrong success.
  auto started = std::chrono::steady_clock::now();
  auto w = write(insert_relay("r1", "relay-one"));
  sched.run();
  auto waited = std::chrono::steady_clock::now() - started;
  CAF_CHECK(result_of(w).code == errc::unavailable);
  CAF_CHECK_GREATER_OR_EQUAL(std::chrono::duration_cast<std::chrono::milliseconds>(waited).count(), 250);
  other->exec("ROLLBACK");
  auto p2 = self->request(storage, caf::infinite, ping_atom::value);
  auto w2 = write(insert_relay("r1", "relay-one"));
  sched.run();
  CAF_CHECK(result_of(p2).ok);
  CAF_CHECK(result_of(w2).ok);
  CAF_CHECK_EQUAL(count_relays(), 1);
}

CAF_TEST(ping commits pending writes first) {
  auto w = write(insert_relay("r1", "relay-one"));
  auto p = self->request(storage, caf::infinite, ping_atom::value);
  sched.run();
  CAF_CHECK(result_of(w).ok);
  CAF_CHECK(result_of(p).ok);
  CAF_CHECK_EQUAL(counters->transactions_committed.load(), 1u);
  CAF_CHECK_EQUAL(count_relays(), 1);
}

CAF_TEST(an explicit flush commits and a stray one is harmless) {
  self->send(storage, flush_atom::value);
  sched.run();
  CAF_CHECK_EQUAL(counters->transactions_committed.load(), 0u);
  auto w = write(insert_relay("r1", "relay-one"));
  self->send(storage, flush_atom::value);
  sched.run();
  CAF_CHECK(result_of(w).ok);
  CAF_CHECK_EQUAL(counters->transactions_committed.load(), 1u);
}

CAF_TEST(a write without a function is refused) {
  auto w = write({"empty", nullptr});
  sched.run();
  CAF_CHECK(result_of(w).code == errc::internal);
  CAF_CHECK_EQUAL(counters->writes_failed.load(), 1u);
}

CAF_TEST(on exit the open batch is committed and answered) {
  auto w1 = write(insert_relay("r1", "relay-one"));
  auto w2 = write(insert_relay("r2", "relay-two"));
  self->send_exit(storage, caf::exit_reason::user_shutdown);
  // Run the actor until it is gone: the writes open the batch, the exit (queued
  // before the batch's flush) stops the actor with the batch still open.
  sched.run();
  storage = nullptr;
  auto r1 = result_of(w1);
  auto r2 = result_of(w2);
  CAF_CHECK(r1.ok);
  CAF_CHECK(r2.ok);
  CAF_CHECK_EQUAL(counters->transactions_committed.load(), 1u);
  CAF_CHECK_EQUAL(count_relays(), 2);
  CAF_CHECK_EQUAL(observer.replies_at_commit, std::vector<size_t>{0});
}

CAF_TEST(a write still queued at its deadline is answered unavailable and not run) {
  auto expired = insert_relay("r1", "relay-one");
  expired.deadline = std::chrono::steady_clock::now() - 1ms;
  auto fresh = insert_relay("r2", "relay-two");
  fresh.deadline = std::chrono::steady_clock::now() + 1h;
  auto w1 = write(std::move(expired));
  auto w2 = write(std::move(fresh));
  sched.run();
  auto o1 = result_of(w1);
  CAF_CHECK(!o1.ok);
  CAF_CHECK(o1.code == errc::unavailable);
  CAF_CHECK(result_of(w2).ok);
  CAF_CHECK_EQUAL(count_relays("id = 'r1'"), 0);
  CAF_CHECK_EQUAL(count_relays("id = 'r2'"), 1);
  CAF_CHECK_EQUAL(counters->writes_failed.load(), 1u);
  CAF_CHECK_EQUAL(counters->writes_committed.load(), 1u);
}

CAF_TEST(background checkpoints keep the WAL bounded and every answered write survives a reopen) {
  storage_options opts;
  opts.checkpoints.wake_pages = 50;
  opts.checkpoints.interval = 10ms;
  opts.checkpoints.reset_pages = 1000;
  restart(opts);
  // Twice reset_pages (the writer leaves a running checkpoint of the thread be until
  // then) plus one commit.
  const uintmax_t bound = 32 + uintmax_t{2 * 1000 + 50} * (4096 + 24);
  for (int i = 0; i < 400; ++i) {
    auto w = write(insert_relay("r" + std::to_string(i), "relay-" + std::to_string(i)));
    sched.run();
    REQUIRE_MSG(result_of(w).ok, "write " + std::to_string(i));
    std::error_code ec;
    auto wal = fs::file_size(path + "-wal", ec);
    REQUIRE_MSG(!ec && wal <= bound, "WAL at " + std::to_string(wal) + " bytes after write " + std::to_string(i));
  }
  CAF_CHECK_EQUAL(counters->writes_committed.load(), 400u);
  stop();
  std::string error;
  auto db = storage::open_database(path, &error);
  REQUIRE_MSG(db != nullptr, error);
  CAF_CHECK_EQUAL(db->execAndGet("PRAGMA integrity_check").getString(), "ok");
  CAF_CHECK_EQUAL(db->execAndGet("SELECT count(*) FROM relays").getInt64(), 400);
}

CAF_TEST_FIXTURE_SCOPE_END()
