// The actors of relayhost and what they share, started in dependency order from a
// configuration: one place, used by main.cpp and by the benchmark servers, so a
// benchmark runs exactly the product's wiring (and cannot drift from it).
#pragma once

#include <csignal>
#include <chrono>
#include <memory>

#include <caf/fwd.hpp>

#include "actors/admin_actor.hpp"
#include "actors/billing_scheduler.hpp"
#include "actors/identity_publisher.hpp"
#include "actors/notifier.hpp"
#include "actors/nwc_client.hpp"
#include "actors/platform_wallet.hpp"
#include "actors/relay_pool.hpp"
#include "actors/stats_poller.hpp"
#include "actors/storage_actor.hpp"
#include "actors/tenant_registry.hpp"
#include "actors/view_board.hpp"
#include "actors/zooid_actor.hpp"
#include "app/config.hpp"
#include "billing/clock.hpp"
#include "app/routes.hpp"

namespace SQLite {
class Database;
}

namespace relayhost {

namespace http {
class client;
class ws_client;
}

namespace nostr {
class secret_key;
}

// A tenant's write waits at most this long in the storage actor's mailbox (its
// deadline; a batch commit takes milliseconds, so this only bounds a stuck disk);
// reads and the admin's requests time out after it.
inline constexpr auto storage_call_timeout = std::chrono::seconds{30};

// zooid reachability for /healthz when no call has answered for `after`: checked
// every `interval` (the first check right at start).
inline constexpr auto zooid_probe_interval = std::chrono::seconds{5};
inline constexpr auto zooid_probe_after = std::chrono::seconds{10};

/// Blocks SIGINT and SIGTERM for every thread started from now on (call before
/// any thread starts; the caller takes them with sigwait) and ignores SIGPIPE and
/// SIGXFSZ (a write beyond a file-size limit then fails like a full disk).
sigset_t block_stop_signals();

/// CAF's scheduler as relayhost runs it: work sharing, ACTOR_THREADS workers
/// (0: one per core). Work stealing's idle workers poll and nap, which costs
/// ~15 % more CPU per request on 2 cores (docs/performance.md).
void configure_scheduler(caf::actor_system_config& caf_cfg, const config& cfg);

// Tenants billing at once (each may ask the platform wallet, whose client bounds
// its own requests in flight by NWC_MAX_IN_FLIGHT).
inline constexpr size_t billing_concurrency = 32;

// A tenant's wallet client is stopped after this long without a request.
inline constexpr auto tenant_wallet_idle = std::chrono::seconds{300};

struct wiring_options {
  storage_options storage;  // counters are filled in by wire_actors
  bool zooid = true;        // false: no zooid client (benchmarks of the API alone)
  int64_t clock_offset = 0; // the billing test clock's stored offset (BILLING_TEST_CLOCK=1)
};

struct wired_actors {
  std::shared_ptr<billing::billing_clock> clock;  // the billing clock (system, or test with offset)
  storage_actor storage;
  zooid_actor zooid;  // invalid when wiring_options::zooid is false
  tenant_registry_actor registry;
  admin_actor admin;
  stats_poller_actor poller;
  relay_pool_actor pool;
  notifier_actor notifier;   // invalid: notifications disabled (NOSTR_INDEXER_RELAYS unset)
  identity_actor identity;   // likewise
  nwc_actor platform_wallet;                      // invalid: NWC_URL unset (billing disabled)
  platform_wallet_actor platform_wallet_checker;  // likewise
  std::shared_ptr<platform_wallet_state> wallet_state;  // never null; not enabled without NWC_URL
  std::shared_ptr<view_board> views;
  std::shared_ptr<http::client> http_client;  // zooid calls (its own io thread)
  std::shared_ptr<storage_counters> storage_stats;
  std::shared_ptr<zooid_health> zooid_status;
  std::shared_ptr<ops_stats> ops;
  std::shared_ptr<http::ws_client> ws_client;  // relay connections (its own io thread)
  std::shared_ptr<relay_pool_counters> pool_stats;
  std::shared_ptr<notifier_counters> notifier_stats;
  billing_scheduler_actor scheduler;             // periods close and bolt11s are asked for
  std::shared_ptr<billing_counters> billing_stats;

  /// What the HTTP routes need.
  app_context context(caf::actor_system& sys, const config& cfg) const;

  /// Stops the HTTP client and every actor (the storage actor last, so every
  /// write already sent is committed); the caller then awaits the actor system.
  void stop() const;
};

/// Spawns every actor on `db` (migrated) with `platform_key`, and starts zooid
/// reconciliation.
wired_actors wire_actors(caf::actor_system& sys, const config& cfg, std::unique_ptr<SQLite::Database> db,
                         const nostr::secret_key& platform_key, wiring_options opts = {});

} // namespace relayhost
