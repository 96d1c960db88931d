// A period close for N tenants (one paid relay each), through the product's own
// actors: the storage actor on a file database, the tenant registry and tenant
// actors, the billing scheduler (32 tenants at once, as wired), and an in-process
// platform wallet that answers make_invoice at once (it counts how many requests
// it held at the same time: the scheduler's bound). The database is seeded in SQL
// as tenants anchored at one moment; the billing clock is then set past their first
// period's end and one pass is timed until the scheduler reports it done: every
// tenant's activity read, prorated, its invoice and schedule written, the
// make_invoice answered, the bolt11 written.
//
//   bench_billing_close [--tenants 10000] [--dir PATH] [--concurrency 32] [--wallet-us 0]
//
// --wallet-us makes the wallet take that long per request (one request at a time,
// like a wallet service that serialises its work), to see where a real wallet
// would put the bound. Timing is not pass/fail; numbers go to docs/performance.md.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <caf/all.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>
#include <nlohmann/json.hpp>

#include "actors/billing_scheduler.hpp"
#include "actors/storage_actor.hpp"
#include "actors/tenant_registry.hpp"
#include "billing/period.hpp"
#include "core/log.hpp"
#include "nostr/hex.hpp"
#include "storage/billing_store.hpp"
#include "storage/database.hpp"
#include "storage/migrations.hpp"
#include "storage/tenant_store.hpp"

using namespace relayhost;
namespace fs = std::filesystem;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr int64_t anchor = 1801353600;  // 2027-01-31T00:00:00Z

struct settings {
  size_t tenants = 10000;
  size_t concurrency = 32;
  int64_t wallet_us = 0;
  fs::path dir;
};

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: bench_billing_close [--tenants N] [--dir PATH] [--concurrency K] [--wallet-us U]\n");
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
    else if (a == "--dir") s.dir = value();
    else if (a == "--concurrency") s.concurrency = std::stoul(value());
    else if (a == "--wallet-us") s.wallet_us = std::stoll(value());
    else usage();
  }
  if (s.tenants == 0 || s.concurrency == 0)
    usage();
  return s;
}

std::string pubkey_of(size_t i) {
  char buf[65];
  std::snprintf(buf, sizeof buf, "%064zx", i + 1);
  return buf;
}

double peak_rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

void seed(SQLite::Database& db, size_t n, const sealed_box& box) {
  SQLite::Transaction tx(db);
  for (size_t i = 0; i < n; ++i) {
    tenant t;
    t.pubkey = pubkey_of(i);
    t.created_at = t.updated_at = anchor;
    t.billing.anchor = anchor;
    t.billing.next_close = billing::period_at(anchor, 0).end;
    storage::insert_tenant(db, t);
    storage::update_tenant_billing(db, t);
    relay r;
    char id[33];
    std::snprintf(id, sizeof id, "%032zx", i + 1);
    r.id = id;
    r.tenant = t.pubkey;
    r.subdomain = "tenant" + std::to_string(i);
    r.name = "Relay";
    r.plan = "basic";
    r.status = relay_status::active;
    r.secret_enc = box.seal(std::string(64, 'a'), "relay-secret:" + r.id);
    r.sync.state = sync_state::synced;
    r.created_at = r.updated_at = anchor;
    storage::insert_relay(db, r);
    storage::append_activity(db, {r.id, anchor, "basic", true, relay_status::active});
  }
  tx.commit();
}

struct wallet_counts {
  std::atomic<uint64_t> requests{0};
  std::atomic<int64_t> now_in{0}, max_in{0};
};

// Answers make_invoice at once (or after wallet_us), with a fresh payment hash.
caf::behavior instant_wallet(caf::event_based_actor* self, std::shared_ptr<wallet_counts> c, int64_t wallet_us) {
  (void) self;
  return {
    [c, wallet_us](nwc_atom, std::string& method, std::string& params) -> nwc_result {
      auto in = ++c->now_in;
      int64_t seen = c->max_in.load();
      while (in > seen && !c->max_in.compare_exchange_weak(seen, in)) {
      }
      auto n = ++c->requests;
      if (wallet_us > 0)
        std::this_thread::sleep_for(std::chrono::microseconds{wallet_us});
      --c->now_in;
      if (method != "make_invoice")
        return nwc_result{nwc_result::wallet_error, "NOT_IMPLEMENTED", "", "", ""};
      auto p = json::parse(params);
      char hash[65];
      std::snprintf(hash, sizeof hash, "%064llx", static_cast<unsigned long long>(n));
      json r{{"invoice", "lnbcrt" + std::to_string(n)}, {"payment_hash", hash}, {"amount", p["amount"]}};
      return nwc_result{nwc_result::ok, "", "", r.dump(), ""};
    },
  };
}

} // namespace

int main(int argc, char** argv) {
  auto s = parse(argc, argv);
  log::configure(log::level::warn, false);
  bool own_dir = s.dir.empty();
  if (own_dir) {
    std::string pattern = (fs::temp_directory_path() / "rh-bench-billing-XXXXXX").string();
    if (!mkdtemp(pattern.data()))
      return 1;
    s.dir = pattern;
  }
  auto path = (s.dir / "hosting.db").string();
  std::string error;
  auto db = storage::open_database(path, &error);
  if (!db || !storage::migrate(*db, storage::embedded_migrations(), &error)) {
    std::fprintf(stderr, "database: %s\n", error.c_str());
    return 1;
  }
  std::array<uint8_t, 32> secret{};
  secret.fill(9);
  auto box = std::make_shared<const sealed_box>(secret);
  auto t0 = clock_type::now();
  seed(*db, s.tenants, *box);
  std::printf("seeded %zu tenants in %.1f s\n", s.tenants,
              std::chrono::duration<double>(clock_type::now() - t0).count());

  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto storage = spawn_storage(sys, std::move(db), storage_options{});
  auto counts = std::make_shared<wallet_counts>();
  auto wallet = caf::actor_cast<nwc_actor>(sys.spawn(instant_wallet, counts, s.wallet_us));
  auto wstate = std::make_shared<platform_wallet_state>();
  platform_wallet_check ok;
  ok.enabled = ok.definite = true;
  wstate->set(ok);
  std::atomic<int64_t> billing_now{billing::period_at(anchor, 0).end + 60};
  auto env = std::make_shared<tenant_env>();
  env->rules = relay_rules{{{"free", 0}, {"basic", 5000}, {"growth", 25000}}, {}};
  env->relay_domain = "spaces.example";
  env->box = box;
  env->now = [&billing_now] { return billing_now.load(); };
  env->idle_timeout = std::chrono::seconds{600};
  env->storage_timeout = std::chrono::seconds{30};
  env->storage = storage;
  env->platform_wallet = wstate;
  env->platform_nwc = wallet;
  env->platform_name = "Bench";
  auto counters = std::make_shared<billing_counters>();
  env->billing = counters;
  auto registry = sys.spawn(tenant_registry_impl, std::shared_ptr<const tenant_env>(env));
  auto senv = std::make_shared<billing_scheduler_env>();
  senv->storage = storage;
  senv->registry = registry;
  senv->wallet = wstate;
  senv->now = env->now;
  senv->real_now = [] { return static_cast<int64_t>(std::time(nullptr)); };
  senv->tick = std::chrono::hours{1};
  senv->concurrency = s.concurrency;
  senv->counters = counters;
  auto scheduler = sys.spawn(billing_scheduler_impl, std::shared_ptr<const billing_scheduler_env>(senv));

  auto start = clock_type::now();
  caf::anon_send(scheduler, tick_atom::value, true);
  while (counters->passes.load() == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  double secs = std::chrono::duration<double>(clock_type::now() - start).count();

  {
    SQLite::Database check(path, SQLite::OPEN_READONLY);
    auto invoices = check.execAndGet("SELECT count(*) FROM invoices").getInt64();
    auto with_bolt11 = check.execAndGet("SELECT count(*) FROM invoices WHERE bolt11 IS NOT NULL").getInt64();
    std::printf("tenants %zu: pass %.2f s (%.0f tenants/s), invoices %lld (with bolt11 %lld), make_invoice %llu, "
                "at most %lld in flight at the wallet, peak RSS %.0f MiB\n",
                s.tenants, secs, static_cast<double>(s.tenants) / secs, static_cast<long long>(invoices),
                static_cast<long long>(with_bolt11), static_cast<unsigned long long>(counts->requests.load()),
                static_cast<long long>(counts->max_in.load()), peak_rss_mib());
  }
  for (auto a : {caf::actor_cast<caf::actor>(scheduler), caf::actor_cast<caf::actor>(registry),
                 caf::actor_cast<caf::actor>(wallet), caf::actor_cast<caf::actor>(storage)})
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sys.await_all_actors_done();
  if (own_dir)
    fs::remove_all(s.dir);
  return 0;
}
