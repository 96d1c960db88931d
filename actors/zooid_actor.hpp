// The zooid client actor: pushes each relay's desired config to zooid's
// management API (zooid.md) and reports every outcome to the relay's tenant.
// One call in flight per relay; a change that arrives meanwhile is pushed as soon
// as the call ends (the latest desired state always wins); transient failures are
// retried with exponential backoff, other 4xx fail without blind retries. The HTTP
// call itself is a transport function, so the actor never waits on the network
// and tests can stand in for zooid in simulated time.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "actors/fwd.hpp"
#include "actors/instrumented.hpp"
#include "domain/sealed_box.hpp"
#include "domain/zooid_config.hpp"
#include "nostr/keys.hpp"
#include "nostr/signer.hpp"

namespace relayhost {

/// One call to zooid's API, signed already.
struct zooid_request {
  std::string method;
  std::string path;  // e.g. /relay/<id>
  std::string body;
  std::string authorization;  // empty: no Authorization header (the probe)
  std::chrono::milliseconds timeout{0};  // 0: the transport's (ZOOID_TIMEOUT_SECONDS)
};

/// Performs a call and calls back exactly once, from any thread.
using zooid_transport = std::function<void(zooid_request, std::function<void(zooid_answer)>)>;

/// The latest outcome of talking to zooid, for GET /healthz.
struct zooid_health {
  enum state_t : int { unknown = 0, ok = 1, unreachable = 2 };
  std::atomic<int> state{unknown};
  std::atomic<int64_t> at{0};  // unix seconds of that outcome
  void record(bool reachable, int64_t now) {
    state = reachable ? ok : unreachable;
    at = now;
  }
};

struct zooid_env {
  zooid_context ctx;
  std::string url_base;   // "http://" + Host exactly as in ZOOID_API_URL, for NIP-98 `u`
  std::string base_path;  // path prefix of ZOOID_API_URL ("" usually)
  std::shared_ptr<const sealed_box> box;
  // Signs every call with the platform key; kept for the key's lifetime (its
  // keypair is derived once, not per call).
  std::shared_ptr<const nostr::signer> platform_signer;
  std::function<int64_t()> now;  // real clock, unix seconds
  std::chrono::seconds retry_base{30};
  std::chrono::seconds retry_max{900};
  int64_t retry_limit = 6;
  // Calls to zooid at once, across all relays. Reconciling a large backlog (or a
  // zooid that just came back) must not open thousands of calls: the rest wait
  // their turn in FIFO order.
  size_t max_in_flight = 16;
  zooid_transport transport;
  storage_actor storage;
  std::shared_ptr<zooid_health> health;
  // Reachability probe (issue 11): every `probe_interval`, if no call has answered
  // for `probe_after`, one unauthenticated GET of the API's root is sent (zooid
  // answers it 401 at once: auth is checked before the path); any HTTP answer means
  // reachable, none within `probe_timeout` unreachable. An idle server so reports
  // ok/unreachable instead of "unknown". 0 s: no probing (actor tests).
  std::chrono::seconds probe_interval{0};
  std::chrono::seconds probe_after{10};
  std::chrono::milliseconds probe_timeout{2000};
};

struct zooid_state {
  static inline const char* name = "zooid_client";

  struct entry {
    relay desired;
    std::string fingerprint;        // of `desired`
    std::string pushed_fingerprint; // of the call in flight
    std::string method;             // of the call in flight
    uint64_t call_id = 0;
    int64_t attempts = 0;           // failed attempts of the current desired state
    int hops = 0;                   // POST↔PATCH redirections within one attempt
    bool in_flight = false;
    bool waiting = false;           // in `ready`, for a free call slot
    uint64_t retry_gen = 0;
    bool retry_pending = false;
    int64_t settle_at = 0;          // unix seconds: until then a call without answer may still land
    bool confirming = false;        // the pending timer is the confirmation push
  };

  std::shared_ptr<const zooid_env> env;
  tenant_registry_actor registry;
  bool started = false;
  std::vector<relay> early;  // sync requests before start
  std::unordered_map<std::string, entry> entries;
  std::deque<std::string> ready;  // relays waiting for a call slot, oldest first
  size_t in_flight = 0;           // calls to zooid not answered yet
  std::unordered_set<std::string> provisioned;  // relay ids zooid is known to hold
  uint64_t next_call = 0;
  bool probe_in_flight = false;
  zooid_stats stats;
};

zooid_actor::behavior_type zooid_actor_impl(instrumented_pointer<zooid_actor, zooid_state> self,
                                            std::shared_ptr<const zooid_env> env);

} // namespace relayhost
