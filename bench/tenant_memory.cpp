// Memory per loaded, idle tenant actor: an actor system with the storage actor (on
// a temporary file database) and the tenant registry, N tenants seeded directly in
// SQL, then one `GET /tenant/relays` call per tenant through the registry so that
// every tenant's actor is spawned and loads its state; when all have answered, the
// growth of the process (RSS from /proc/self/statm, and the malloc heap in use)
// divided by N is the cost of one loaded idle tenant.
//
//   bench_tenant_memory [--tenants 100000] [--relays 1] [--in-flight 2000]
//                       [--dir PATH] [--settle SECONDS]
//
// Everything that is not per tenant is paid before the baseline: the database is
// seeded and the actor system warmed up (its worker threads, the registry's maps at
// a first size, CAF's allocator pools) by loading 1,000 other tenants first.
// SQLite's own heap (page cache, which grows while loading) is reported apart
// (sqlite3_memory_used) and subtracted. The registry's hash maps grow by doubling,
// so their bucket arrays are in the figure (as they are in production).
// Timing is not pass/fail; numbers go to docs/performance.md.
#include <malloc.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <caf/all.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include "actors/storage_actor.hpp"
#include "actors/tenant_actor.hpp"
#include "actors/tenant_registry.hpp"
#include "core/log.hpp"
#include "nostr/hex.hpp"
#include "storage/database.hpp"
#include "storage/migrations.hpp"
#include "storage/tenant_store.hpp"

using namespace relayhost;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

namespace {

struct settings {
  size_t tenants = 100000;
  size_t relays = 1;
  size_t in_flight = 2000;  // calls outstanding at once while loading
  size_t warmup = 1000;     // tenants loaded before the baseline
  double settle_s = 2;      // pause before each measurement
  fs::path dir;
};

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: bench_tenant_memory [--tenants N] [--relays R] [--in-flight K] [--dir PATH] "
                       "[--settle SECONDS]\n");
  std::exit(2);
}

settings parse(int argc, char** argv) {
  settings s;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage();
      return argv[++i];
    };
    if (a == "--tenants") s.tenants = std::stoul(value());
    else if (a == "--relays") s.relays = std::stoul(value());
    else if (a == "--in-flight") s.in_flight = std::stoul(value());
    else if (a == "--dir") s.dir = value();
    else if (a == "--settle") s.settle_s = std::stod(value());
    else usage();
  }
  if (s.tenants == 0 || s.in_flight == 0)
    usage();
  return s;
}

// A distinct 64-hex "pubkey" per index (the schema checks only its spelling).
std::string pubkey_of(size_t i) {
  char buf[65];
  std::snprintf(buf, sizeof buf, "%064zx", i + 1);
  return buf;
}

struct memory {
  double rss_bytes = 0;    // resident set (statm field 2 × page size)
  double heap_bytes = 0;   // malloc: bytes handed out (all arenas + mmapped chunks)
  double sqlite_bytes = 0; // of which SQLite (page cache, statements)
};

memory measure() {
  memory m;
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  m.rss_bytes = static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
  auto mi = mallinfo2();
  m.heap_bytes = static_cast<double>(mi.uordblks + mi.hblkhd);
  m.sqlite_bytes = static_cast<double>(sqlite3_memory_used());
  return m;
}

void print_memory(const char* what, const memory& m) {
  std::printf("%-34s RSS %8.1f MiB   heap in use %8.1f MiB   (SQLite %6.1f MiB)\n", what,
              m.rss_bytes / 1048576.0, m.heap_bytes / 1048576.0, m.sqlite_bytes / 1048576.0);
}

// Seeds tenants [0, n) with `relays` relays each, in one transaction.
void seed(SQLite::Database& db, size_t n, size_t relays, const sealed_box& box) {
  SQLite::Transaction tx(db);
  const int64_t now = 1764000000;
  for (size_t i = 0; i < n; ++i) {
    tenant t;
    t.pubkey = pubkey_of(i);
    t.created_at = t.updated_at = now;
    storage::insert_tenant(db, t);
    for (size_t k = 0; k < relays; ++k) {
      relay r;
      std::array<uint8_t, 16> raw{};
      auto idx = static_cast<uint64_t>(i * 1000 + k);
      for (int b = 0; b < 8; ++b)
        raw[static_cast<size_t>(b)] = static_cast<uint8_t>(idx >> (8 * b));
      raw[15] = 0x5a;
      r.id = nostr::to_hex(raw.data(), raw.size());
      r.tenant = t.pubkey;
      r.subdomain = "t" + std::to_string(i) + "r" + std::to_string(k);
      r.name = "Relay " + std::to_string(k);
      r.description = "";
      r.plan = "free";
      r.status = relay_status::active;
      r.secret_enc = box.seal(std::string(64, 'a'), "relay-secret:" + r.id);
      r.sync.state = sync_state::synced;
      r.sync.attempts = 1;
      r.sync.last_attempt_at = now;
      r.zooid_provisioned = true;
      r.created_at = r.updated_at = now;
      storage::insert_relay(db, r);
    }
  }
  tx.commit();
}

// Counts answers; wakes the loader when a batch is complete.
struct answers {
  std::mutex mx;
  std::condition_variable cv;
  size_t done = 0;
  size_t non_200 = 0;

  void add(int status) {
    std::lock_guard<std::mutex> g{mx};
    ++done;
    if (status != 200)
      ++non_200;
    cv.notify_all();
  }
};

// Sends one list_relays call for each tenant in [begin, end), at most `in_flight`
// unanswered at once, and waits for every answer.
void load(const tenant_registry_actor& registry, answers& a, size_t begin, size_t end, size_t in_flight) {
  size_t base;
  {
    std::lock_guard<std::mutex> g{a.mx};
    base = a.done;
  }
  for (size_t i = begin; i < end; ++i) {
    {
      std::unique_lock<std::mutex> g{a.mx};
      a.cv.wait(g, [&] { return (i - begin) - (a.done - base) < in_flight; });
    }
    tenant_call call;
    call.op = tenant_op::list_relays;
    call.respond = http::responder{[&a](http::api_response&& res) { a.add(res.status); }};
    caf::anon_send(registry, call_atom::value, pubkey_of(i), std::move(call));
  }
  std::unique_lock<std::mutex> g{a.mx};
  a.cv.wait(g, [&] { return a.done - base == end - begin; });
}

registry_stats stats_of(caf::actor_system& sys, const tenant_registry_actor& registry) {
  caf::scoped_actor self{sys};
  registry_stats out;
  self->request(registry, std::chrono::seconds{60}, stats_atom::value)
    .receive([&](registry_stats& s) { out = s; }, [](caf::error&) {});
  return out;
}

void settle(const settings& s) {
  std::this_thread::sleep_for(std::chrono::duration<double>(s.settle_s));
}

} // namespace

int main(int argc, char** argv) {
  auto s = parse(argc, argv);
  log::configure(log::level::warn, false);
  bool own_dir = s.dir.empty();
  if (own_dir) {
    std::string tmpl = (fs::temp_directory_path() / "rh-tenant-memory-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      std::perror("mkdtemp");
      return 1;
    }
    s.dir = tmpl;
  }
  auto path = (s.dir / "bench.db").string();
  std::array<uint8_t, 32> secret{};
  secret.fill(7);
  auto box = std::make_shared<const sealed_box>(secret);

  // The fixed part of one tenant actor (its heap-allocated strings and relays come on top).
  using tenant_impl = std::remove_pointer_t<instrumented_pointer<tenant_actor, tenant_state>>;
  std::printf("sizeof: actor object %zu B (of which tenant_state %zu B) + control block %zu B; "
              "relay %zu B, tenant %zu B\n",
              sizeof(tenant_impl), sizeof(tenant_state), sizeof(caf::actor_control_block), sizeof(relay),
              sizeof(tenant));

  const size_t total = s.warmup + s.tenants;
  {
    std::string err;
    auto db = storage::open_database(path, &err);
    if (!db || !storage::migrate(*db, storage::embedded_migrations(), &err)) {
      std::fprintf(stderr, "database: %s\n", err.c_str());
      return 1;
    }
    auto t0 = clock_type::now();
    seed(*db, total, s.relays, *box);
    std::printf("seeded %zu tenants with %zu relay(s) each in %.1f s\n", total, s.relays,
                std::chrono::duration<double>(clock_type::now() - t0).count());
  }

  int rc = 0;
  {
    caf::actor_system_config cfg;
    caf::actor_system sys{cfg};
    std::string err;
    auto db = storage::open_database(path, &err);
    if (!db) {
      std::fprintf(stderr, "database: %s\n", err.c_str());
      return 1;
    }
    auto storage = spawn_storage(sys, std::move(db), storage_options{});
    auto env = std::make_shared<tenant_env>();
    env->rules = relay_rules{{{"free", 0}, {"basic", 5000}, {"growth", 25000}}, {}};
    env->relay_domain = "spaces.example.com";
    env->box = box;
    env->now = [] { return static_cast<int64_t>(std::time(nullptr)); };
    env->idle_timeout = std::chrono::hours{24};  // never idle during the measurement
    env->storage_timeout = std::chrono::seconds{30};  // as app/main.cpp
    env->storage = storage;
    env->views = std::make_shared<view_board>();  // as app/main.cpp: every loaded tenant publishes its view
    auto registry = sys.spawn(tenant_registry_impl, std::shared_ptr<const tenant_env>(env));

    answers a;
    // Tenants [tenants, tenants + warmup) are the warm-up; [0, tenants) are measured.
    load(registry, a, s.tenants, total, s.in_flight);
    settle(s);
    malloc_trim(0);
    auto before = measure();
    print_memory("after warm-up (baseline):", before);

    auto t0 = clock_type::now();
    load(registry, a, 0, s.tenants, s.in_flight);
    double load_s = std::chrono::duration<double>(clock_type::now() - t0).count();
    auto st = stats_of(sys, registry);
    std::printf("loaded %zu tenants in %.2f s (%.0f tenants/s, %zu in flight); registry: %llu loaded, "
                "%llu failed; non-200 answers: %zu\n",
                s.tenants, load_s, static_cast<double>(s.tenants) / load_s, s.in_flight,
                static_cast<unsigned long long>(st.loaded), static_cast<unsigned long long>(st.failed),
                a.non_200);
    if (st.loaded != total || a.non_200 != 0) {
      std::fprintf(stderr, "not every tenant is loaded: the figures below are not per tenant\n");
      rc = 1;
    }
    settle(s);
    auto after = measure();
    print_memory("all loaded (no trim):", after);
    malloc_trim(0);
    auto trimmed = measure();
    print_memory("all loaded (after malloc_trim):", trimmed);

    auto per = [&](double a_, double b_) { return (b_ - a_) / static_cast<double>(s.tenants); };
    double sqlite_delta = per(before.sqlite_bytes, trimmed.sqlite_bytes);
    std::printf("per loaded idle tenant (%zu relay(s)): RSS %.0f B (%.2f KiB), heap %.0f B (%.2f KiB), "
                "SQLite part %.0f B; without SQLite: RSS %.0f B, heap %.0f B\n",
                s.relays, per(before.rss_bytes, trimmed.rss_bytes), per(before.rss_bytes, trimmed.rss_bytes) / 1024,
                per(before.heap_bytes, trimmed.heap_bytes), per(before.heap_bytes, trimmed.heap_bytes) / 1024,
                sqlite_delta, per(before.rss_bytes, trimmed.rss_bytes) - sqlite_delta,
                per(before.heap_bytes, trimmed.heap_bytes) - sqlite_delta);
    std::printf("RESULT relays=%zu tenants=%zu rss_per_tenant=%.0f heap_per_tenant=%.0f sqlite_per_tenant=%.0f "
                "rss_untrimmed_per_tenant=%.0f load_per_s=%.0f\n",
                s.relays, s.tenants, per(before.rss_bytes, trimmed.rss_bytes),
                per(before.heap_bytes, trimmed.heap_bytes), sqlite_delta, per(before.rss_bytes, after.rss_bytes),
                static_cast<double>(s.tenants) / load_s);
    std::fflush(stdout);

    caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(storage, caf::exit_reason::user_shutdown);
    sys.await_all_actors_done();
  }
  if (own_dir) {
    std::error_code ec;
    fs::remove_all(s.dir, ec);
  }
  return rc;
}
