// The notifier: delivers the DM outbox (migrations/0005_notifications.sql).
// Rows are written by the actor that caused them, in the transaction of the
// cause; this actor only reads what is due, and for each notice:
//   1. finds the recipient's inbox relays: the newest kind-10050 event across all
//      NOSTR_INDEXER_RELAYS (cached for a while, lookups for one recipient shared);
//   2. builds the NIP-17 gift wrap ONCE and commits it before the first
//      publication (a wrap already stored is reused: same event id on every retry,
//      so relays deduplicate and the tenant sees it once, whatever crashed);
//   3. publishes it to the inbox relays only, through the relay pool, and records
//      each relay's outcome: sent when one holds it, else retried with backoff.
// No inbox list → `undeliverable`, looked at again with backoff for a week, then
// final: never a busy loop. Timing rules are domain/outbox.hpp's.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "actors/fwd.hpp"
#include "actors/instrumented.hpp"
#include "domain/outbox.hpp"

namespace relayhost {

namespace nostr {
class secret_key;
}

/// For metrics: DMs by final outcome, and the outbox by state (refreshed by the notifier).
struct notifier_counters {
  std::atomic<uint64_t> sent{0}, undeliverable{0}, failed{0}, retried{0};
  std::atomic<int64_t> pending_rows{0}, sent_rows{0}, undeliverable_rows{0}, failed_rows{0};
  std::atomic<bool> counted{false};
};

struct notifier_env {
  storage_actor storage;
  relay_pool_actor pool;
  std::shared_ptr<const nostr::secret_key> platform_key;  // signs the seals
  std::vector<std::string> indexers;                       // NOSTR_INDEXER_RELAYS
  std::function<int64_t()> now;                            // real clock, unix seconds
  outbox_policy policy;
  std::chrono::seconds inbox_cache_ttl{600};  // a recipient's 10050 lookup is reused this long
  caf::timespan lookup_timeout = std::chrono::seconds{10};
  caf::timespan publish_timeout = std::chrono::seconds{15};
  caf::timespan storage_timeout = std::chrono::seconds{30};
  size_t batch = 64;          // due rows read per pass
  size_t max_in_flight = 32;  // notices resolved or published at once
  std::chrono::seconds poll{60};        // the longest sleep (a kick wakes it sooner)
  std::chrono::seconds count_every{30};  // outbox depth for metrics
  std::shared_ptr<notifier_counters> counters;
};

struct notifier_state {
  static inline const char* name = "notifier";

  struct lookup {
    bool known = false;                 // false: no indexer answered (transient)
    std::optional<inbox_list> list;     // known and nullopt: the recipient has none
    std::string error;
  };
  struct cache_entry {
    lookup result;
    int64_t fetched_at = 0;
  };

  std::shared_ptr<const notifier_env> env;
  std::unordered_set<std::string> in_flight;  // notification ids
  bool reading = false;
  bool again = false;          // a kick came during a read: read once more
  uint64_t timer_gen = 0;
  int64_t timer_at = 0;        // when the armed timer fires (0: none)
  int64_t counted_at = 0;
  std::unordered_map<std::string, cache_entry> inbox_cache;
  std::unordered_map<std::string, std::vector<std::function<void(const lookup&)>>> resolving;
  notifier_stats stats;
};

notifier_actor::behavior_type notifier_impl(instrumented_pointer<notifier_actor, notifier_state> self,
                                            std::shared_ptr<const notifier_env> env);

} // namespace relayhost
