// One NIP-47 wallet connection (the platform wallet for the life of the process,
// or a tenant's wallet on demand): requests through the relay pool, answered with
// a typed outcome.
//
// Per request: the wallet's kind-13194 info event is read first (and again once
// stale) to learn its methods and encryption; a subscription for responses
// (kinds 23195, authors [wallet], #e [request id]) is opened BEFORE the request
// is published; the request carries an `expiration` tag; a response counts only
// when nostr::open_nwc_response trusts it (anything else is counted and ignored).
//
// Outcomes: `ok`, `wallet_error` (the wallet answered with a NIP-47 error),
// `unknown` (published, no trusted answer before the timeout: the wallet may have
// acted — billing must look before it retries), `not_sent` (no relay took the
// request, or the wallet's info could not be read: it cannot have acted).
//
// At most `max_in_flight` requests are out at once; the rest wait in FIFO order.
// RATE_LIMITED pauses new requests to that wallet (doubling, reset by a success).
// A tenant wallet's actor quits when it has had nothing to do for `idle_quit`.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include <caf/typed_response_promise.hpp>

#include "actors/fwd.hpp"
#include "actors/instrumented.hpp"
#include "nostr/keys.hpp"
#include "nostr/nwc.hpp"
#include "nostr/nwc_uri.hpp"

namespace relayhost {

struct nwc_env {
  relay_pool_actor pool;
  std::function<int64_t()> now;                       // real clock, unix seconds
  std::chrono::seconds timeout{60};                   // NWC_TIMEOUT_SECONDS: a request's wait
  std::chrono::seconds info_timeout{10};              // reading the info event
  std::chrono::seconds info_ttl{600};                 // the info is read again after this
  size_t max_in_flight = 8;
  size_t max_queued = 10000;                          // more are answered not_sent at once
  std::chrono::seconds rate_limit_pause{2};           // first pause after RATE_LIMITED
  std::chrono::seconds rate_limit_pause_max{120};
  std::chrono::seconds idle_quit{0};                  // 0: never (the platform wallet)
  std::string wallet_kind = "tenant";                 // metrics label: platform | tenant
};

struct nwc_client_state {
  static inline const char* name = "nwc_client";

  struct pending {
    uint64_t seq = 0;
    std::string method, params;
    caf::typed_response_promise<nwc_result> promise;
    std::chrono::steady_clock::time_point queued_at;
  };
  struct in_flight {
    pending req;
    nostr::event event;      // the signed request
    uint64_t subscription = 0;
    bool published = false;  // at least one relay took it, or one may have (timed out)
  };

  std::shared_ptr<const nwc_env> env;
  nostr::nwc_uri uri;
  std::optional<nostr::secret_key> key;  // the URI's secret: signs and decrypts
  std::optional<nostr::nwc_info> info;
  int64_t info_at = 0;
  bool reading_info = false;
  std::string info_error;                 // why the last read found none
  std::deque<pending> queue;
  std::unordered_map<uint64_t, in_flight> flying;             // by seq
  std::unordered_map<uint64_t, uint64_t> by_subscription;     // subscription → seq
  uint64_t next_seq = 0;
  int64_t paused_until = 0;  // unix seconds (RATE_LIMITED)
  std::chrono::seconds pause{0};
  bool pause_timer = false;
  uint64_t activity = 0;     // bumps on every request (idle quit)
  nwc_stats stats;
};

/// `uri` must come from nostr::parse_nwc_uri.
nwc_actor::behavior_type nwc_client_impl(instrumented_pointer<nwc_actor, nwc_client_state> self,
                                         nostr::nwc_uri uri, std::shared_ptr<const nwc_env> env);

} // namespace relayhost
