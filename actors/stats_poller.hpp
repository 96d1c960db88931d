// The stats poller: keeps the operators' view of the actors fresh so that a
// GET /metrics scrape never waits on an actor. Every `actor_interval` it asks the
// tenant registry and the zooid client for their stats (stats_atom); every
// `count_interval` it counts tenants, relays and invoices by status with one read
// through the storage actor. What it learns goes into `ops_stats` (atomics), which
// the metrics endpoint reads at scrape time. A source that does not answer keeps
// its last values; its `*_at` time stops moving, which is what alerts watch.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include <caf/actor_clock.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/fwd.hpp"
#include "actors/instrumented.hpp"

namespace relayhost {

/// The poller's interface: stats_atom is its own timer tick (only it sends it).
/// (Belongs in actors/fwd.hpp with the other interfaces once this file is wired.)
using stats_poller_actor = caf::typed_actor<caf::reacts_to<stats_atom>>;

/// How often the actors are asked for their stats (each answer is one message).
inline constexpr std::chrono::seconds default_stats_actor_interval{5};
/// How often rows are counted by status (one read on the storage actor).
inline constexpr std::chrono::seconds default_stats_count_interval{30};
/// How long one stats request may take before it counts as unanswered.
inline constexpr std::chrono::seconds default_stats_request_timeout{5};

// The status vocabularies counted, exactly the CHECK constraints of
// migrations/0001_init.sql, so every status is exposed (as 0 when no row has it).
inline constexpr std::array<std::string_view, 2> tenant_status_values{"active", "suspended"};
inline constexpr std::array<std::string_view, 4> relay_status_values{"active", "inactive", "suspended",
                                                                     "delinquent"};
inline constexpr std::array<std::string_view, 3> relay_sync_values{"pending", "synced", "failed"};
inline constexpr std::array<std::string_view, 3> invoice_status_values{"open", "paid", "void"};

/// What the poller last learned. Written by the poller only, read by any thread.
struct ops_stats {
  // tenant registry (registry_stats)
  std::atomic<uint64_t> tenants_loaded{0};
  std::atomic<uint64_t> tenants_spawned{0};
  std::atomic<uint64_t> tenants_stopped_idle{0};
  std::atomic<uint64_t> tenants_failed{0};
  // zooid client (zooid_stats)
  std::atomic<uint64_t> zooid_queued{0};
  std::atomic<uint64_t> zooid_in_flight{0};
  std::atomic<uint64_t> zooid_calls{0};
  std::atomic<uint64_t> zooid_synced{0};
  std::atomic<uint64_t> zooid_retries{0};
  std::atomic<uint64_t> zooid_confirmations{0};
  std::atomic<uint64_t> zooid_failed{0};
  // Rows by status, in the order of the *_values arrays above.
  std::array<std::atomic<uint64_t>, tenant_status_values.size()> tenants_by_status{};
  std::array<std::atomic<uint64_t>, relay_status_values.size()> relays_by_status{};
  std::array<std::atomic<uint64_t>, relay_sync_values.size()> relays_by_sync{};
  std::array<std::atomic<uint64_t>, invoice_status_values.size()> invoices_by_status{};
  // Unix seconds of the latest answer of each source (0: none yet).
  std::atomic<int64_t> registry_at{0};
  std::atomic<int64_t> zooid_at{0};
  std::atomic<int64_t> counted_at{0};
  // Seconds from sending the latest stats request to its answer: how long a
  // message waits in that actor's mailbox plus the time to handle it.
  std::atomic<double> registry_round_trip{0};
  std::atomic<double> zooid_round_trip{0};
  std::atomic<double> storage_round_trip{0};  // the count read (includes its queries)
};

struct stats_poller_options {
  std::chrono::seconds actor_interval = default_stats_actor_interval;
  std::chrono::seconds count_interval = default_stats_count_interval;
  std::chrono::seconds request_timeout = default_stats_request_timeout;
  /// Wall clock for the `*_at` times (unix seconds); tests pass their own.
  std::function<int64_t()> now;
};

struct stats_poller_state {
  static inline const char* name = "stats_poller";
  std::shared_ptr<ops_stats> out;
  stats_poller_options opts;
  tenant_registry_actor registry;
  zooid_actor zooid;
  storage_actor storage;
  // A source with a request still unanswered is not asked again (no pile-up
  // behind a stuck actor).
  bool registry_pending = false;
  bool zooid_pending = false;
  bool count_pending = false;
  bool counted_once = false;
  caf::actor_clock::time_point last_count_sent{};
};

/// The poller's behavior. Any of the three handles may be invalid (that source
/// is skipped). It polls at once, then every actor_interval, until it is stopped.
stats_poller_actor::behavior_type stats_poller_impl(instrumented_pointer<stats_poller_actor, stats_poller_state> self,
                                                    std::shared_ptr<ops_stats> out, tenant_registry_actor registry,
                                                    zooid_actor zooid, storage_actor storage,
                                                    stats_poller_options opts);

} // namespace relayhost
