#include "app/wiring.hpp"

#include <cstdlib>

#include <algorithm>
#include <ctime>
#include <pthread.h>
#include <thread>

#include <caf/all.hpp>
#include <SQLiteCpp/Database.h>

#include "app/zooid_transport.hpp"
#include "core/log.hpp"
#include "http/client.hpp"
#include "http/ws_client.hpp"
#include "nostr/keys.hpp"
#include "nostr/nwc_uri.hpp"
#include "nostr/signer.hpp"

namespace relayhost {

sigset_t block_stop_signals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // A file-size limit (ulimit -f) must fail the write (EFBIG → 503), not kill the server.
  std::signal(SIGXFSZ, SIG_IGN);
  return stop_signals;
}

void configure_scheduler(caf::actor_system_config& caf_cfg, const config& cfg) {
  size_t threads = cfg.actor_threads > 0 ? static_cast<size_t>(cfg.actor_threads)
                                         : std::max<size_t>(std::thread::hardware_concurrency(), 2);
  caf_cfg.set("scheduler.policy", caf::atom("sharing"));
  caf_cfg.set("scheduler.max-threads", threads);
}

app_context wired_actors::context(caf::actor_system& sys, const config& cfg) const {
  app_context ctx;
  ctx.sys = &sys;
  ctx.cfg = &cfg;
  ctx.storage = storage;
  ctx.registry = registry;
  ctx.admin = admin;
  ctx.zooid_status = zooid_status;
  ctx.views = views;
  return ctx;
}

void wired_actors::stop() const {
  if (http_client)
    http_client->stop();
  if (ws_client)
    ws_client->stop();
  for (auto a : {caf::actor_cast<caf::actor>(poller), caf::actor_cast<caf::actor>(identity),
                 caf::actor_cast<caf::actor>(platform_wallet_checker), caf::actor_cast<caf::actor>(platform_wallet),
                 caf::actor_cast<caf::actor>(notifier), caf::actor_cast<caf::actor>(pool),
                 caf::actor_cast<caf::actor>(admin), caf::actor_cast<caf::actor>(scheduler),
                 caf::actor_cast<caf::actor>(zooid), caf::actor_cast<caf::actor>(registry),
                 caf::actor_cast<caf::actor>(storage)})
    if (a)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

wired_actors wire_actors(caf::actor_system& sys, const config& cfg, std::unique_ptr<SQLite::Database> db,
                         const nostr::secret_key& platform_key, wiring_options opts) {
  wired_actors w;
  auto now = [] { return static_cast<int64_t>(std::time(nullptr)); };
  w.clock = std::make_shared<billing::billing_clock>(cfg.billing_test_clock, opts.clock_offset);
  auto billing_now = [clock = w.clock] { return clock->now(); };
  w.storage_stats = std::make_shared<storage_counters>();
  opts.storage.counters = w.storage_stats;
  w.storage = spawn_storage(sys, std::move(db), opts.storage);

  // zooid: the HTTP client runs on its own io thread; the actor never waits on it.
  zooid_context zctx{cfg.relay_domain, cfg.admin_pubkeys, cfg.plans};
  auto box = std::make_shared<const sealed_box>(platform_key.bytes());
  w.http_client = std::make_shared<http::client>(http::client::options{});
  w.zooid_status = std::make_shared<zooid_health>();
  if (opts.zooid) {
    auto zenv = std::make_shared<zooid_env>();
    zenv->ctx = zctx;
    zenv->url_base = "http://" + cfg.zooid_api.host_header;
    zenv->base_path = cfg.zooid_api.base_path;
    zenv->box = box;
    zenv->platform_signer = std::make_shared<const nostr::signer>(platform_key);
    zenv->now = now;
    zenv->retry_base = std::chrono::seconds{cfg.zooid_retry_base_seconds};
    zenv->retry_max = std::chrono::seconds{cfg.zooid_retry_max_seconds};
    zenv->retry_limit = cfg.zooid_retry_limit;
    zenv->transport =
      make_zooid_transport(w.http_client, cfg.zooid_api, std::chrono::seconds{cfg.zooid_timeout_seconds});
    zenv->storage = w.storage;
    zenv->health = w.zooid_status;
    // /healthz reports outcomes at most 30 s old: probe an idle zooid well within that.
    zenv->probe_interval = zooid_probe_interval;
    zenv->probe_after = zooid_probe_after;
    w.zooid = sys.spawn(zooid_actor_impl, std::shared_ptr<const zooid_env>(zenv));
  }

  // Nostr: one websocket client (its own io thread) under one relay pool, shared by
  // the notifier, the identity publisher and (later) the wallets.
  http::ws_client::options wopts;
  wopts.max_message_bytes = static_cast<size_t>(cfg.relay_max_message_bytes);
  wopts.connect_timeout = std::chrono::seconds{cfg.relay_timeout_seconds};
  wopts.ca_file = cfg.relay_ca_file;
  w.ws_client = std::make_shared<http::ws_client>(wopts);
  auto platform_signer = std::make_shared<const nostr::signer>(platform_key);
  w.pool_stats = std::make_shared<relay_pool_counters>();
  {
    auto penv = std::make_shared<relay_pool_env>();
    std::weak_ptr<http::ws_client> client = w.ws_client;
    penv->connect = [client](const http::ws_target& t, http::ws_handlers h) -> std::shared_ptr<http::ws_connection> {
      if (auto c = client.lock())
        return c->connect(t, std::move(h));
      if (h.on_close)
        h.on_close(http::ws_error::stopped);
      return nullptr;
    };
    penv->platform_signer = platform_signer;
    penv->now = now;
    penv->counters = w.pool_stats;
    w.pool = sys.spawn(relay_pool_impl, std::shared_ptr<const relay_pool_env>(penv));
  }
  // NIP-47 wallets on the same pool: the platform's for the life of the process,
  // tenants' spawned by their tenant actor when needed and stopped when idle.
  auto wallet_env = [&](std::string kind, std::chrono::seconds idle_quit) {
    auto e = std::make_shared<nwc_env>();
    e->pool = w.pool;
    e->now = now;
    e->timeout = std::chrono::seconds{cfg.nwc_timeout_seconds};
    e->info_timeout = std::chrono::seconds{cfg.relay_timeout_seconds};
    e->max_in_flight = static_cast<size_t>(cfg.nwc_max_in_flight);
    e->idle_quit = idle_quit;
    e->wallet_kind = std::move(kind);
    return std::shared_ptr<const nwc_env>(e);
  };
  // A client's longest answer: the info read (query, up to twice its timeout), the
  // subscription and the request's own timeout; CAF's bound on it has room on top.
  const auto wallet_answer_bound =
    std::chrono::seconds{cfg.nwc_timeout_seconds + 4 * cfg.relay_timeout_seconds + 30};
  w.wallet_state = std::make_shared<platform_wallet_state>();
  if (cfg.nwc_url) {
    if (auto uri = nostr::parse_nwc_uri(*cfg.nwc_url, nullptr)) {  // checked by load_config
      w.platform_wallet = sys.spawn(nwc_client_impl, *uri, wallet_env("platform", std::chrono::seconds{0}));
      auto cenv = std::make_shared<platform_wallet_env>();
      cenv->wallet = w.platform_wallet;
      cenv->state = w.wallet_state;
      cenv->request_timeout = wallet_answer_bound;
      w.platform_wallet_checker =
        sys.spawn(platform_wallet_checker_impl, std::shared_ptr<const platform_wallet_env>(cenv));
      caf::anon_send(w.platform_wallet_checker, start_atom::value);
    }
  }

  w.notifier_stats = std::make_shared<notifier_counters>();
  if (!cfg.indexer_relays.empty()) {
    auto nenv = std::make_shared<notifier_env>();
    nenv->storage = w.storage;
    nenv->pool = w.pool;
    nenv->platform_key = std::make_shared<const nostr::secret_key>(platform_key);
    nenv->indexers = cfg.indexer_relays;
    nenv->now = now;
    nenv->counters = w.notifier_stats;
    nenv->lookup_timeout = std::chrono::seconds{cfg.relay_timeout_seconds};
    nenv->publish_timeout = std::chrono::seconds{cfg.relay_timeout_seconds};
    nenv->policy.retry_base = cfg.outbox_retry_seconds;
    w.notifier = sys.spawn(notifier_impl, std::shared_ptr<const notifier_env>(nenv));

    auto ienv = std::make_shared<identity_env>();
    ienv->pool = w.pool;
    ienv->platform_signer = platform_signer;
    ienv->indexers = cfg.indexer_relays;
    ienv->profile = platform_profile{cfg.platform_name, cfg.platform_description, cfg.platform_picture,
                                     cfg.platform_messaging_relays};
    ienv->now = now;
    ienv->publish_timeout = std::chrono::seconds{cfg.relay_timeout_seconds};
    w.identity = sys.spawn(identity_publisher_impl, std::shared_ptr<const identity_env>(ienv));
    caf::anon_send(w.identity, start_atom::value);
    caf::anon_send(w.notifier, notify_atom::value);  // what a previous run left in the outbox
  }

  w.views = std::make_shared<view_board>();
  auto env = std::make_shared<tenant_env>();
  env->notifier = w.notifier;
  env->wallet_env = wallet_env("tenant", tenant_wallet_idle);
  env->wallet_answer_bound = wallet_answer_bound;
  env->platform_wallet = w.wallet_state;
  env->platform_nwc = w.platform_wallet;
  env->invoice_expiry_seconds = cfg.invoice_expiry_seconds;
  env->grace_seconds = cfg.billing_grace_days * 86400;
  env->collection.check_base_seconds = cfg.payment_check_seconds;
  env->collection.pay_retry_seconds = cfg.nwc_pay_retry_hours * 3600;
  // Test-only: kill -9 at a named step of a collection (never without the test clock).
  if (const char* f = std::getenv("RELAYHOST_FAULT"); f && cfg.billing_test_clock)
    env->fault_point = f;
  w.billing_stats = std::make_shared<billing_counters>();
  env->billing = w.billing_stats;
  env->platform_name = cfg.platform_name;
  env->real_now = now;
  env->views = w.views;
  env->rules = relay_rules{cfg.plans, cfg.reserved_subdomains};
  env->relay_domain = cfg.relay_domain;
  env->box = box;
  env->now = billing_now;  // relay activity and billing state are on the billing clock
  env->idle_timeout = std::chrono::seconds{cfg.tenant_idle_seconds};
  env->storage_timeout = storage_call_timeout;
  env->storage = w.storage;
  env->zooid = w.zooid;
  env->zooid_ctx = zctx;
  w.registry = sys.spawn(tenant_registry_impl, std::shared_ptr<const tenant_env>(env));
  if (w.zooid)
    caf::anon_send(w.zooid, start_atom::value, w.registry);

  auto senv = std::make_shared<billing_scheduler_env>();
  senv->storage = w.storage;
  senv->registry = w.registry;
  senv->wallet = w.wallet_state;
  senv->now = billing_now;
  senv->real_now = now;
  senv->tick = std::chrono::seconds{cfg.billing_tick_seconds};
  senv->storage_timeout = storage_call_timeout;
  senv->concurrency = billing_concurrency;
  senv->counters = w.billing_stats;
  w.scheduler = sys.spawn(billing_scheduler_impl, std::shared_ptr<const billing_scheduler_env>(senv));
  caf::anon_send(w.scheduler, tick_atom::value);  // a pass now (billing enabled or not yet), then every tick

  auto aenv = std::make_shared<admin_env>();
  aenv->scheduler = w.scheduler;
  aenv->relay_domain = cfg.relay_domain;
  aenv->storage = w.storage;
  aenv->registry = w.registry;
  aenv->storage_timeout = storage_call_timeout;
  aenv->clock = w.clock;
  w.admin = sys.spawn(admin_actor_impl, std::shared_ptr<const admin_env>(aenv));
  // Operators' view: actor stats cached in atomics, so a scrape never waits on an actor.
  w.ops = std::make_shared<ops_stats>();
  w.poller = sys.spawn(stats_poller_impl, w.ops, w.registry, w.zooid, w.storage, stats_poller_options{});
  return w;
}

} // namespace relayhost
