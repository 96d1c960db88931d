// The operators' listener and the relayhost_* metrics.
//
// GET /metrics (Prometheus text format 0.0.4) is served on METRICS_ADDR by a
// second http::server with its own router and NO authentication: bind it to
// loopback or an internal interface only (docs/operations.md). The public
// listener never routes /metrics.
//
// The metrics that read the actors' state are evaluated at scrape time from
// atomics only (storage_counters, zooid_health, and ops_stats kept fresh by the
// stats poller, actors/stats_poller.hpp): a scrape never waits on an actor.
// HTTP requests of the public listener are counted by http_request_recorder, set
// as its server_options::on_complete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/billing_counters.hpp"
#include "actors/notifier.hpp"
#include "actors/relay_pool.hpp"
#include "actors/stats_poller.hpp"
#include "actors/storage_actor.hpp"
#include "actors/zooid_actor.hpp"
#include "app/config.hpp"
#include "core/metrics.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

namespace relayhost {

/// Upper bounds (seconds) of relayhost_http_request_duration_seconds: from a
/// sub-millisecond read served from memory to the 15 s handler timeout.
std::vector<double> http_duration_buckets();

/// Counts each response of the public listener: relayhost_http_requests_total
/// {route, method, status} and relayhost_http_request_duration_seconds{route}.
/// Every label value is bounded: route templates ("-" when none matched), the
/// server's folded method names, the status number. Cheap and thread-safe (one
/// lock-free lookup and two relaxed adds per request); copies share the families.
class http_request_recorder {
public:
  explicit http_request_recorder(metrics::registry& reg = metrics::registry::global());
  void operator()(const http::request_record& r) const;

private:
  metrics::family<metrics::counter>* requests_;
  metrics::family<metrics::histogram>* duration_;
};

/// What the scrape-time metrics read. Each may be null/empty: its metrics then
/// expose no samples.
struct metrics_sources {
  std::shared_ptr<const storage_counters> storage;
  std::shared_ptr<const zooid_health> zooid;
  std::shared_ptr<const ops_stats> ops;       // written by the stats poller
  std::function<size_t()> running_actors;     // e.g. sys.registry().running()
  std::shared_ptr<const relay_pool_counters> relay_pool;  // written by the relay pool
  std::shared_ptr<const notifier_counters> outbox;        // written by the notifier
  std::shared_ptr<const billing_counters> billing;        // written by tenant actors and the scheduler
};

/// Registers the relayhost_* metrics that read `src` (again: replaces the sources).
void register_source_metrics(metrics::registry& reg, metrics_sources src);

/// Clears every callback register_source_metrics installed; when it returns none
/// runs, so what they read may go.
void unregister_source_metrics(metrics::registry& reg);

/// The router of the metrics listener: GET (and HEAD) /metrics, nothing else.
std::shared_ptr<http::router> make_metrics_router(const metrics::registry& reg);

/// The running metrics listener. Stopping it (or destroying it) stops the listener
/// and clears the source callbacks.
class metrics_endpoint {
public:
  metrics_endpoint(std::unique_ptr<http::server> server, metrics::registry& reg);
  ~metrics_endpoint();
  metrics_endpoint(const metrics_endpoint&) = delete;
  metrics_endpoint& operator=(const metrics_endpoint&) = delete;

  /// The bound port.
  uint16_t port() const;

  /// Idempotent; call from a thread that is not one of its io threads.
  void stop();

private:
  std::unique_ptr<http::server> server_;
  metrics::registry& reg_;
  bool stopped_ = false;
};

/// Registers the source metrics and starts the listener on `addr` (port 0: an
/// ephemeral one). Null with `*error` ("cannot listen on …") when it cannot listen.
std::unique_ptr<metrics_endpoint> start_metrics_endpoint(const endpoint& addr, metrics_sources src,
                                                         std::string* error,
                                                         metrics::registry& reg = metrics::registry::global());

} // namespace relayhost
