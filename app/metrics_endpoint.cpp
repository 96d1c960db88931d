#include "app/metrics_endpoint.hpp"

#include <array>
#include <charconv>
#include <string_view>
#include <utility>

#include "core/log.hpp"

namespace relayhost {

namespace {

using metrics::labeled_value;
using samples = std::vector<labeled_value>;

// One io thread is plenty: a scrape every few seconds, answered from memory.
constexpr size_t metrics_io_threads = 1;

// Every callback family register_source_metrics installs, so they can be cleared.
constexpr std::array<std::string_view, 39> source_metric_names{
  "relayhost_build_info",
  "relayhost_actors_running",
  "relayhost_tenant_actors_loaded",
  "relayhost_tenant_actors_spawned_total",
  "relayhost_tenant_actors_stopped_idle_total",
  "relayhost_tenant_actors_failed_total",
  "relayhost_storage_transactions_total",
  "relayhost_storage_writes_total",
  "relayhost_storage_reads_total",
  "relayhost_storage_reads_failed_total",
  "relayhost_storage_last_batch_writes",
  "relayhost_storage_largest_batch_writes",
  "relayhost_zooid_sync_queue",
  "relayhost_zooid_sync_in_flight",
  "relayhost_zooid_calls_total",
  "relayhost_zooid_syncs_total",
  "relayhost_zooid_retries_total",
  "relayhost_zooid_confirmations_total",
  "relayhost_zooid_health",
  "relayhost_zooid_health_timestamp_seconds",
  "relayhost_tenants",
  "relayhost_relays",
  "relayhost_relays_sync",
  "relayhost_invoices",
  "relayhost_stats_updated_timestamp_seconds",
  "relayhost_actor_response_seconds",
  "relayhost_relay_connections",
  "relayhost_relay_connects_total",
  "relayhost_relay_publishes_total",
  "relayhost_relay_messages_ignored_total",
  "relayhost_relay_auths_total",
  "relayhost_outbox_notifications",
  "relayhost_dms_total",
  "relayhost_billing_passes_total",
  "relayhost_billing_pass_seconds",
  "relayhost_billing_pass_invoices",
  "relayhost_billing_events_total",
  "relayhost_billing_wallet_errors_total",
  "relayhost_billing_collection_total",
};

template <class T> double load(const std::atomic<T>& a) {
  return static_cast<double>(a.load(std::memory_order_relaxed));
}

samples one(double v) {
  return {{{}, v}};
}

/// A sample of `ptr`'s field, or none while the source is absent.
template <class Source, class Read> std::function<samples()> read_one(std::shared_ptr<const Source> ptr, Read read) {
  return [ptr = std::move(ptr), read]() -> samples {
    if (!ptr)
      return {};
    return one(read(*ptr));
  };
}

template <size_t N>
samples by_label(const std::array<std::string_view, N>& values, const std::array<std::atomic<uint64_t>, N>& counts) {
  samples out;
  out.reserve(N);
  for (size_t i = 0; i < N; ++i)
    out.push_back({{std::string(values[i])}, load(counts[i])});
  return out;
}

void register_ops_metrics(metrics::registry& reg, const std::shared_ptr<const ops_stats>& ops) {
  reg.gauge_callback("relayhost_tenant_actors_loaded", "Tenant actors alive (tenants held in memory).", {},
                     read_one(ops, [](const ops_stats& o) { return load(o.tenants_loaded); }));
  reg.counter_callback("relayhost_tenant_actors_spawned_total", "Tenant actors started (a tenant loaded).", {},
                       read_one(ops, [](const ops_stats& o) { return load(o.tenants_spawned); }));
  reg.counter_callback("relayhost_tenant_actors_stopped_idle_total", "Tenant actors stopped after being idle.", {},
                       read_one(ops, [](const ops_stats& o) { return load(o.tenants_stopped_idle); }));
  reg.counter_callback("relayhost_tenant_actors_failed_total",
                       "Tenant actors that died abnormally (the next call reloads the tenant).", {},
                       read_one(ops, [](const ops_stats& o) { return load(o.tenants_failed); }));

  reg.gauge_callback("relayhost_zooid_sync_queue", "Relays whose desired config is not yet confirmed by zooid.", {},
                     read_one(ops, [](const ops_stats& o) { return load(o.zooid_queued); }));
  reg.gauge_callback("relayhost_zooid_sync_in_flight", "zooid calls waiting for an answer.", {},
                     read_one(ops, [](const ops_stats& o) { return load(o.zooid_in_flight); }));
  reg.counter_callback("relayhost_zooid_calls_total", "Calls made to zooid's management API.", {},
                       read_one(ops, [](const ops_stats& o) { return load(o.zooid_calls); }));
  reg.counter_callback("relayhost_zooid_syncs_total", "Relay syncs that ended, by outcome (synced or failed).",
                       {"outcome"}, [ops]() -> samples {
                         if (!ops)
                           return {};
                         return {{{"synced"}, load(ops->zooid_synced)}, {{"failed"}, load(ops->zooid_failed)}};
                       });
  reg.counter_callback("relayhost_zooid_retries_total", "zooid calls scheduled again after a transient failure.", {},
                       read_one(ops, [](const ops_stats& o) { return load(o.zooid_retries); }));
  reg.counter_callback("relayhost_zooid_confirmations_total",
                       "Extra pushes of a relay's latest state after a call that got no answer (zooid may apply it late).",
                       {}, read_one(ops, [](const ops_stats& o) { return load(o.zooid_confirmations); }));

  // Counted every ~30 s; no samples before the first count.
  auto counted = [ops](auto make) {
    return [ops, make]() -> samples {
      if (!ops || ops->counted_at.load(std::memory_order_relaxed) == 0)
        return {};
      return make(*ops);
    };
  };
  reg.gauge_callback("relayhost_tenants", "Tenants by status (counted every 30 s).", {"status"},
                     counted([](const ops_stats& o) { return by_label(tenant_status_values, o.tenants_by_status); }));
  reg.gauge_callback("relayhost_relays", "Relays by status (counted every 30 s).", {"status"},
                     counted([](const ops_stats& o) { return by_label(relay_status_values, o.relays_by_status); }));
  reg.gauge_callback("relayhost_relays_sync", "Relays by zooid sync state (counted every 30 s).", {"state"},
                     counted([](const ops_stats& o) { return by_label(relay_sync_values, o.relays_by_sync); }));
  reg.gauge_callback("relayhost_invoices", "Invoices by status (counted every 30 s).", {"status"},
                     counted([](const ops_stats& o) { return by_label(invoice_status_values, o.invoices_by_status); }));

  reg.gauge_callback("relayhost_stats_updated_timestamp_seconds",
                     "Unix time of the latest answer of each polled source (0: none yet). A source that stops moving "
                     "is stuck or gone.",
                     {"source"}, [ops]() -> samples {
                       if (!ops)
                         return {};
                       return {{{"tenant_registry"}, load(ops->registry_at)},
                               {{"zooid_client"}, load(ops->zooid_at)},
                               {{"storage_counts"}, load(ops->counted_at)}};
                     });
  reg.gauge_callback("relayhost_actor_response_seconds",
                     "Seconds the latest stats request took to be answered by each actor: its mailbox backlog plus "
                     "handling (storage: the count queries too).",
                     {"actor"}, [ops]() -> samples {
                       if (!ops)
                         return {};
                       return {{{"tenant_registry"}, load(ops->registry_round_trip)},
                               {{"zooid_client"}, load(ops->zooid_round_trip)},
                               {{"storage"}, load(ops->storage_round_trip)}};
                     });
}

void register_storage_metrics(metrics::registry& reg, const std::shared_ptr<const storage_counters>& sc) {
  reg.counter_callback("relayhost_storage_transactions_total",
                       "SQLite transactions of the storage actor, by outcome (committed or failed).", {"outcome"},
                       [sc]() -> samples {
                         if (!sc)
                           return {};
                         return {{{"committed"}, load(sc->transactions_committed)},
                                 {{"failed"}, load(sc->transactions_failed)}};
                       });
  reg.counter_callback("relayhost_storage_writes_total",
                       "Writes answered by the storage actor, by outcome (committed or failed).", {"outcome"},
                       [sc]() -> samples {
                         if (!sc)
                           return {};
                         return {{{"committed"}, load(sc->writes_committed)}, {{"failed"}, load(sc->writes_failed)}};
                       });
  reg.counter_callback("relayhost_storage_reads_total", "Reads run by the storage actor (failed ones included).", {},
                       read_one(sc, [](const storage_counters& c) { return load(c.reads); }));
  reg.counter_callback("relayhost_storage_reads_failed_total", "Reads of the storage actor that failed.", {},
                       read_one(sc, [](const storage_counters& c) { return load(c.reads_failed); }));
  reg.gauge_callback("relayhost_storage_last_batch_writes", "Writes committed by the latest transaction.", {},
                     read_one(sc, [](const storage_counters& c) { return load(c.last_batch_size); }));
  reg.gauge_callback("relayhost_storage_largest_batch_writes",
                     "Most writes committed by one transaction since the start.", {},
                     read_one(sc, [](const storage_counters& c) { return load(c.largest_batch); }));
}

void register_relay_metrics(metrics::registry& reg, const std::shared_ptr<const relay_pool_counters>& pc) {
  reg.gauge_callback("relayhost_relay_connections",
                     "Websocket connections to Nostr relays by state (idle ones are closed, not counted).", {"state"},
                     [pc]() -> samples {
                       if (!pc)
                         return {};
                       return {{{"connecting"}, load(pc->connecting)}, {{"open"}, load(pc->open)},
                               {{"backoff"}, load(pc->backoff)}};
                     });
  reg.counter_callback("relayhost_relay_connects_total", "Websocket connections attempted, by outcome.", {"outcome"},
                       [pc]() -> samples {
                         if (!pc)
                           return {};
                         return {{{"attempted"}, load(pc->connects)}, {{"lost"}, load(pc->disconnects)}};
                       });
  reg.counter_callback("relayhost_relay_publishes_total",
                       "Events published, per relay, by the relay's answer (accepted, rejected, timed_out, failed).",
                       {"outcome"}, [pc]() -> samples {
                         if (!pc)
                           return {};
                         return {{{"accepted"}, load(pc->publish_accepted)},
                                 {{"rejected"}, load(pc->publish_rejected)},
                                 {{"timed_out"}, load(pc->publish_timed_out)},
                                 {{"failed"}, load(pc->publish_failed)}};
                       });
  reg.counter_callback("relayhost_relay_messages_ignored_total",
                       "Relay messages not acted on, by reason (notice, malformed, invalid_event).", {"reason"},
                       [pc]() -> samples {
                         if (!pc)
                           return {};
                         return {{{"notice"}, load(pc->notices)}, {{"malformed"}, load(pc->malformed)},
                                 {{"invalid_event"}, load(pc->invalid_events)}};
                       });
  reg.counter_callback("relayhost_relay_auths_total", "NIP-42 AUTH events sent to relays that asked.", {},
                       read_one(pc, [](const relay_pool_counters& c) { return load(c.auths); }));
}

void register_outbox_metrics(metrics::registry& reg, const std::shared_ptr<const notifier_counters>& nc) {
  reg.gauge_callback("relayhost_outbox_notifications",
                     "DM outbox rows by state (counted every 30 s; none while notifications are disabled).",
                     {"state"}, [nc]() -> samples {
                       if (!nc || !nc->counted.load())
                         return {};
                       return {{{"pending"}, load(nc->pending_rows)}, {{"sent"}, load(nc->sent_rows)},
                               {{"undeliverable"}, load(nc->undeliverable_rows)}, {{"failed"}, load(nc->failed_rows)}};
                     });
  reg.counter_callback("relayhost_dms_total",
                       "DM delivery attempts since start by outcome: sent, retried (no inbox relay took it yet), "
                       "undeliverable (no inbox list), failed (given up).",
                       {"outcome"}, [nc]() -> samples {
                         if (!nc)
                           return {};
                         return {{{"sent"}, load(nc->sent)}, {{"retried"}, load(nc->retried)},
                                 {{"undeliverable"}, load(nc->undeliverable)}, {{"failed"}, load(nc->failed)}};
                       });
}

void register_billing_metrics(metrics::registry& reg, const std::shared_ptr<const billing_counters>& bc) {
  reg.counter_callback("relayhost_billing_passes_total", "Billing scheduler passes over the due tenants since start.",
                       {}, read_one(bc, [](const billing_counters& c) { return load(c.passes); }));
  reg.gauge_callback("relayhost_billing_pass_seconds", "Duration of the latest billing pass (wall clock).", {},
                     read_one(bc, [](const billing_counters& c) { return load(c.last_pass_millis) / 1000.0; }));
  reg.gauge_callback("relayhost_billing_pass_invoices", "Invoices the latest billing pass created.", {},
                     read_one(bc, [](const billing_counters& c) { return load(c.last_pass_invoices); }));
  reg.counter_callback("relayhost_billing_events_total",
                       "Invoicing since start: periods closed, invoices created (periods that cost something), "
                       "bolt11s issued for new invoices and renewed for expired ones.",
                       {"event"}, [bc]() -> samples {
                         if (!bc)
                           return {};
                         return {{{"period_closed"}, load(bc->periods_closed)},
                                 {{"invoice_created"}, load(bc->invoices_created)},
                                 {{"bolt11_issued"}, load(bc->bolt11_issued)},
                                 {{"bolt11_renewed"}, load(bc->bolt11_renewed)}};
                       });
  reg.counter_callback("relayhost_billing_collection_total",
                       "Collection since start: invoices paid over Lightning, automatic payment attempts sent and "
                       "failed (the wallet's error), out-of-band lookups of open invoices.",
                       {"event"}, [bc]() -> samples {
                         if (!bc)
                           return {};
                         return {{{"paid"}, load(bc->invoices_paid)},
                                 {{"attempt"}, load(bc->pay_attempts)},
                                 {{"attempt_failed"}, load(bc->pay_failures)},
                                 {{"lookup"}, load(bc->lookups)}};
                       });
  reg.counter_callback("relayhost_billing_wallet_errors_total",
                       "make_invoice requests that failed, timed out or answered what cannot be used (the invoice "
                       "stays open without a bolt11 and is asked for again).",
                       {}, read_one(bc, [](const billing_counters& c) { return load(c.wallet_errors); }));
}

void register_zooid_health(metrics::registry& reg, const std::shared_ptr<const zooid_health>& zh) {
  reg.gauge_callback("relayhost_zooid_health",
                     "Outcome of the latest zooid call or probe: 1 for the current state (unknown, ok, unreachable).",
                     {"state"}, [zh]() -> samples {
                       if (!zh)
                         return {};
                       const int s = zh->state.load();
                       return {{{"unknown"}, s == zooid_health::unknown ? 1.0 : 0.0},
                               {{"ok"}, s == zooid_health::ok ? 1.0 : 0.0},
                               {{"unreachable"}, s == zooid_health::unreachable ? 1.0 : 0.0}};
                     });
  reg.gauge_callback("relayhost_zooid_health_timestamp_seconds",
                     "Unix time of that outcome (0: none yet; /healthz reports unknown past 30 s).", {},
                     read_one(zh, [](const zooid_health& h) { return static_cast<double>(h.at.load()); }));
}

} // namespace

std::vector<double> http_duration_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15};
}

http_request_recorder::http_request_recorder(metrics::registry& reg)
  : requests_(&reg.counter_family("relayhost_http_requests_total",
                                  "HTTP requests of the public listener by route template, method and status.",
                                  {"route", "method", "status"})),
    duration_(&reg.histogram_family("relayhost_http_request_duration_seconds",
                                    "Seconds from a request's complete header block to its response written, by "
                                    "route template.",
                                    {"route"}, http_duration_buckets())) {}

void http_request_recorder::operator()(const http::request_record& r) const {
  char status[8];
  auto [end, ec] = std::to_chars(status, status + sizeof status, r.status);
  const std::string_view status_label = ec == std::errc{} ? std::string_view(status, end - status) : "-";
  const std::string_view route = r.route.empty() ? std::string_view("-") : r.route;
  const std::string_view method = r.method.empty() ? std::string_view("-") : r.method;
  requests_->with({route, method, status_label}).inc();
  duration_->with({route}).observe(r.duration_ms / 1000.0);
}

void register_source_metrics(metrics::registry& reg, metrics_sources src) {
  reg.gauge_callback("relayhost_build_info", "Always 1; the version is the label.", {"version"},
                     [] { return samples{{{RELAYHOST_VERSION}, 1.0}}; });
  reg.gauge_callback("relayhost_actors_running", "CAF actors alive in the actor system (all types).", {},
                     [fn = std::move(src.running_actors)]() -> samples {
                       if (!fn)
                         return {};
                       return one(static_cast<double>(fn()));
                     });
  register_ops_metrics(reg, src.ops);
  register_storage_metrics(reg, src.storage);
  register_zooid_health(reg, src.zooid);
  register_relay_metrics(reg, src.relay_pool);
  register_outbox_metrics(reg, src.outbox);
  register_billing_metrics(reg, src.billing);
}

void unregister_source_metrics(metrics::registry& reg) {
  for (auto name : source_metric_names)
    reg.remove_callback(name);
}

std::shared_ptr<http::router> make_metrics_router(const metrics::registry& reg) {
  auto r = std::make_shared<http::router>();
  r->add("GET", "/metrics", http::auth_mode::none, [&reg](http::api_request&&, http::responder respond) {
    http::api_response res;
    res.status = 200;
    res.body = reg.expose();
    res.content_type = std::string(metrics::content_type);
    respond(std::move(res));
  });
  return r;
}

metrics_endpoint::metrics_endpoint(std::unique_ptr<http::server> server, metrics::registry& reg)
  : server_(std::move(server)), reg_(reg) {}

metrics_endpoint::~metrics_endpoint() {
  stop();
}

uint16_t metrics_endpoint::port() const {
  return server_ ? server_->port() : 0;
}

void metrics_endpoint::stop() {
  if (stopped_)
    return;
  stopped_ = true;
  if (server_)
    server_->stop();
  unregister_source_metrics(reg_);
}

std::unique_ptr<metrics_endpoint> start_metrics_endpoint(const endpoint& addr, metrics_sources src,
                                                         std::string* error, metrics::registry& reg) {
  http::server_options opts;
  opts.host = addr.host;
  opts.port = addr.port;
  opts.io_threads = metrics_io_threads;
  // A scrape every 15 s would be most of the log at info; it shows at LOG_LEVEL=debug.
  opts.request_log_level = log::level::debug;
  register_source_metrics(reg, std::move(src));
  auto server = std::make_unique<http::server>(std::move(opts), make_metrics_router(reg));
  if (auto err = server->start()) {
    unregister_source_metrics(reg);
    if (error)
      *error = *err;
    return nullptr;
  }
  log::info("metrics listening",
            {{"address", addr.host + ":" + std::to_string(server->port())}, {"path", "/metrics"}});
  return std::make_unique<metrics_endpoint>(std::move(server), reg);
}

} // namespace relayhost
