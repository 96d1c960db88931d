// Write throughput of the storage layer on a real file: one transaction per write
// (what a naive storage layer does) against the storage actor's group commit with
// many concurrent requesters (what tenant actors look like under load).
//
//   bench_storage_commit [--writes N] [--requesters K] [--dir PATH] [--sync normal|full]
//
// A "write" is one relay creation: the relays row plus its relay_activity row, as the
// tenant actor writes them. Timing is not pass/fail; numbers go to docs/performance.md.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "actors/storage_actor.hpp"
#include "core/log.hpp"
#include "storage/database.hpp"
#include "storage/migrations.hpp"

using namespace relayhost;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

namespace {

const std::string tenant_pubkey(64, 'a');

struct settings {
  int writes = 20000;
  int requesters = 64;
  fs::path dir;
  bool sync_full = false;
};

struct result {
  std::string mode;
  int writes = 0;
  double seconds = 0;
  uint64_t transactions = 0;
};

// Inserts relay `i` and its first activity row (the SQL of a relay creation).
void insert_relay(SQLite::Database& db, int i) {
  auto id = "r" + std::to_string(i);
  SQLite::Statement relay(db, "INSERT INTO relays (id, tenant, subdomain, name, plan, secret_enc, created_at, "
                              "updated_at) VALUES (?, ?, ?, 'Bench relay', 'basic', zeroblob(48), 1764000000, "
                              "1764000000)");
  relay.bind(1, id);
  relay.bind(2, tenant_pubkey);
  relay.bind(3, "relay-" + std::to_string(i));
  relay.exec();
  SQLite::Statement activity(db, "INSERT INTO relay_activity (relay, at, plan, active, status) "
                                 "VALUES (?, 1764000000, 'basic', 1, 'active')");
  activity.bind(1, id);
  activity.exec();
}

std::unique_ptr<SQLite::Database> fresh_database(const settings& s, const std::string& name) {
  auto path = (s.dir / (name + ".db")).string();
  for (auto suffix : {"", "-wal", "-shm"})
    fs::remove(path + suffix);
  std::string error;
  auto db = storage::open_database(path, &error);
  if (!db || !storage::migrate(*db, storage::embedded_migrations(), &error)) {
    std::fprintf(stderr, "bench_storage_commit: %s\n", error.c_str());
    std::exit(1);
  }
  if (s.sync_full)
    db->exec("PRAGMA synchronous=FULL");
  db->exec("INSERT INTO tenants (pubkey, created_at, updated_at) VALUES ('" + tenant_pubkey + "', 1, 1)");
  return db;
}

result direct_one_transaction_per_write(const settings& s) {
  auto db = fresh_database(s, "direct");
  auto start = clock_type::now();
  for (int i = 0; i < s.writes; ++i) {
    db->exec("BEGIN IMMEDIATE");
    insert_relay(*db, i);
    db->exec("COMMIT");
  }
  std::chrono::duration<double> took = clock_type::now() - start;
  return {"direct: one transaction per write", s.writes, took.count(), static_cast<uint64_t>(s.writes)};
}

// The floor: the SQL alone, every write in a single transaction.
result direct_single_transaction(const settings& s) {
  auto db = fresh_database(s, "direct-single");
  auto start = clock_type::now();
  db->exec("BEGIN IMMEDIATE");
  for (int i = 0; i < s.writes; ++i)
    insert_relay(*db, i);
  db->exec("COMMIT");
  std::chrono::duration<double> took = clock_type::now() - start;
  return {"direct: all writes in one transaction (floor)", s.writes, took.count(), 1};
}

// One requester: sends its writes one after the other, each when the previous one is
// answered (as a tenant actor persists before it replies), then reports to `sink`.
void request_next(caf::event_based_actor* self, const storage_actor& storage, int i, int end,
                  const caf::actor& sink) {
  if (i == end) {
    self->send(sink, caf::ok_atom::value);
    self->quit();
    return;
  }
  storage_write w{"bench.relay", [i](SQLite::Database& db) { insert_relay(db, i); }};
  self->request(storage, caf::infinite, write_atom::value, std::move(w))
    .then([=](bool) { request_next(self, storage, i + 1, end, sink); },
          [=](caf::error& err) {
            self->send(sink, err);
            self->quit();
          });
}

void requester(caf::event_based_actor* self, storage_actor storage, int begin, int end, caf::actor sink) {
  request_next(self, storage, begin, end, sink);
}

// Runs `requesters` concurrent requesters against a detached storage actor (as the
// application spawns it) until all writes are answered; returns the elapsed time.
std::chrono::duration<double> run_requesters(const settings& s, storage_options opts, int requesters) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto storage = spawn_storage(sys, fresh_database(s, "actor"), std::move(opts));
  caf::scoped_actor sink{sys};
  auto start = clock_type::now();
  int per = s.writes / requesters;
  for (int r = 0; r < requesters; ++r) {
    int begin = r * per;
    int end = r == requesters - 1 ? s.writes : begin + per;
    sys.spawn(requester, storage, begin, end, caf::actor{sink});
  }
  bool failed = false;
  for (int r = 0; r < requesters; ++r)
    sink->receive([](caf::ok_atom) {},
                  [&](caf::error& err) {
                    std::fprintf(stderr, "write failed: %s\n", sys.render(err).c_str());
                    failed = true;
                  });
  std::chrono::duration<double> took = clock_type::now() - start;
  caf::anon_send_exit(storage, caf::exit_reason::user_shutdown);
  if (failed)
    std::exit(1);
  return took;  // the actor system's destructor waits for the storage actor to close the file
}

result through_actor(const settings& s, const std::string& mode, size_t max_batch, int requesters) {
  storage_options opts;
  opts.max_batch = max_batch;
  opts.counters = std::make_shared<storage_counters>();
  auto took = run_requesters(s, opts, requesters);
  // Every answered write is really there.
  SQLite::Database check((s.dir / "actor.db").string(), SQLite::OPEN_READONLY);
  auto rows = check.execAndGet("SELECT count(*) FROM relays").getInt64();
  if (rows != s.writes) {
    std::fprintf(stderr, "%s: %lld rows for %d answered writes\n", mode.c_str(), static_cast<long long>(rows),
                 s.writes);
    std::exit(1);
  }
  return {mode, s.writes, took.count(), opts.counters->transactions_committed.load()};
}

settings parse(int argc, char** argv) {
  settings s;
  s.dir = fs::temp_directory_path();
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--writes")
      s.writes = std::stoi(value());
    else if (a == "--requesters")
      s.requesters = std::stoi(value());
    else if (a == "--dir")
      s.dir = value();
    else if (a == "--sync")
      s.sync_full = value() == "full";
    else {
      std::fprintf(stderr, "usage: bench_storage_commit [--writes N] [--requesters K] [--dir PATH] "
                           "[--sync normal|full]\n");
      std::exit(2);
    }
  }
  return s;
}

} // namespace

int main(int argc, char** argv) {
  auto s = parse(argc, argv);
  log::configure(log::level::warn, false);
  s.dir /= "rh-bench-storage";
  fs::create_directories(s.dir);
  std::printf("storage_commit: %d writes (a relay row + its activity row each), synchronous=%s, dir=%s\n",
              s.writes, s.sync_full ? "FULL" : "NORMAL", s.dir.c_str());
  std::vector<result> results;
  results.push_back(direct_single_transaction(s));
  results.push_back(direct_one_transaction_per_write(s));
  results.push_back(through_actor(s, "actor: max_batch=1, " + std::to_string(s.requesters) + " requesters", 1,
                                  s.requesters));
  results.push_back(through_actor(s, "actor: group commit, 1 requester", default_storage_max_batch, 1));
  results.push_back(through_actor(s, "actor: group commit, " + std::to_string(s.requesters) + " requesters",
                                  default_storage_max_batch, s.requesters));
  std::printf("%-48s %12s %14s %10s\n", "mode", "writes/s", "transactions", "avg batch");
  for (const auto& r : results)
    std::printf("%-48s %12.0f %14llu %10.1f\n", r.mode.c_str(), r.writes / r.seconds,
                static_cast<unsigned long long>(r.transactions),
                r.transactions ? static_cast<double>(r.writes) / r.transactions : 0.0);
  fs::remove_all(s.dir);
  return 0;
}
