// The relay pool: relayhost's websocket connections to Nostr relays, one per
// normalised relay URL, shared by every user (the notifier, NWC clients). It
// publishes events and waits for each relay's OK, runs queries until EOSE (or a
// timeout) and closes them, keeps live subscriptions (re-sent after a reconnect),
// answers NIP-42 AUTH challenges with the platform key and retries what a relay
// refused with `auth-required:`. A connection with live subscriptions reconnects
// with capped exponential backoff and jitter; one nobody uses is closed after a
// while.
//
// The network is behind `ws_connector` (app/ wires http::ws_client; tests a fake),
// so the actor never blocks and the protocol is testable in simulated time.
// Memory is bounded per relay: messages queued while connecting, events
// collected per query, ids remembered per subscription; the websocket client
// bounds frames, its write queue and the messages not yet handled here (ack).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/response_promise.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/fwd.hpp"
#include "actors/instrumented.hpp"
#include "http/ws_client.hpp"

namespace relayhost {

namespace nostr {
class signer;
}

/// Opens one websocket; the handlers run on an io thread (the pool forwards them).
using ws_connector = std::function<std::shared_ptr<http::ws_connection>(const http::ws_target&, http::ws_handlers)>;

/// Counters and gauges for metrics (read at scrape time, written by the pool).
struct relay_pool_counters {
  std::atomic<int64_t> connecting{0}, open{0}, backoff{0};  // connections by state (idle ones are closed)
  std::atomic<uint64_t> publish_accepted{0}, publish_rejected{0}, publish_timed_out{0}, publish_failed{0};
  std::atomic<uint64_t> connects{0}, disconnects{0};
  std::atomic<uint64_t> notices{0}, malformed{0}, invalid_events{0}, auths{0};
};

struct relay_pool_env {
  ws_connector connect;
  std::shared_ptr<const nostr::signer> platform_signer;  // NIP-42 AUTH
  std::function<int64_t()> now;                          // real clock, unix seconds
  std::chrono::milliseconds reconnect_base{1000};
  std::chrono::milliseconds reconnect_max{300000};
  std::chrono::seconds idle_close{300};      // a connection without users this long is closed
  std::chrono::seconds stable_after{30};     // open this long: its failures are forgotten
  size_t max_queued_per_relay = 1024;        // messages waiting for a connection
  size_t max_query_events = 5000;            // events one query keeps (the rest are dropped)
  size_t max_seen_per_subscription = 4096;   // event ids remembered to deliver each once
  size_t max_relays_per_call = 32;
  std::shared_ptr<relay_pool_counters> counters;
};

struct relay_pool_state {
  static inline const char* name = "relay_pool";

  enum class conn_state : uint8_t { idle, connecting, open, backoff };

  struct connection {
    std::string url;  // normalised
    http::ws_target target;
    conn_state state = conn_state::idle;
    std::shared_ptr<http::ws_connection> link;
    uint64_t link_id = 0;         // which link the io thread's signals are about
    int failures = 0;             // consecutive failed or short-lived connections
    uint64_t reconnect_gen = 0;
    std::chrono::steady_clock::time_point opened_at{}, last_used{};
    std::chrono::steady_clock::time_point retry_at{};  // after a failure: not before this
    std::string last_error;
    std::deque<std::string> queued;  // sent when the connection opens
    // NIP-42
    std::string challenge;
    std::string auth_event_id;  // the AUTH we sent and await an OK for
    bool authed = false;
    std::vector<std::string> after_auth;  // messages to send again once AUTH is accepted
    // who waits for what on this relay
    std::unordered_map<std::string, std::vector<uint64_t>> publishes;  // event id → publish ops
    std::unordered_map<std::string, uint64_t> subscriptions;           // sub id → query op or live sub
  };

  struct publish_op {
    caf::typed_response_promise<publish_report> promise;
    std::string event_id;
    std::string message;  // ["EVENT", …]
    std::map<std::string, relay_publish_result> results;  // by relay, when answered
    std::set<std::string> waiting;                        // relays not answered yet
    std::set<std::string> auth_retried;
  };

  struct query_op {
    caf::typed_response_promise<query_report> promise;
    std::string sub_id;
    std::string req;  // ["REQ", sub, filters…]
    std::map<std::string, relay_query_result> results;
    std::set<std::string> waiting;
    std::set<std::string> auth_retried;
    std::unordered_map<std::string, nostr::event> events;  // by id
  };

  struct live_sub {
    pool_subscriber_actor sink;
    std::string sub_id;
    std::string req;
    std::vector<std::string> relays;
    std::unordered_set<std::string> seen;
    std::deque<std::string> seen_order;
    std::set<std::string> auth_retried;
  };

  std::shared_ptr<const relay_pool_env> env;
  std::unordered_map<std::string, connection> connections;  // by normalised URL
  std::unordered_map<uint64_t, std::string> link_urls;      // link id → URL
  std::unordered_map<uint64_t, publish_op> publishes;
  std::unordered_map<uint64_t, query_op> queries;
  std::unordered_map<uint64_t, live_sub> subs;
  uint64_t next_op = 0;
  uint64_t next_link = 0;
  bool sweep_armed = false;
  std::mt19937_64 rng{std::random_device{}()};
  relay_pool_stats stats;
};

relay_pool_actor::behavior_type relay_pool_impl(instrumented_pointer<relay_pool_actor, relay_pool_state> self,
                                                std::shared_ptr<const relay_pool_env> env);

} // namespace relayhost
