// relayhost: reads the configuration, migrates the database, starts the actors
// and the HTTP front-end, and shuts down in order on SIGINT/SIGTERM.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <filesystem>
#include <iostream>
#include <pthread.h>
#include <algorithm>
#include <thread>

#include <caf/all.hpp>
#include <SQLiteCpp/Database.h>

#include "actors/admin_actor.hpp"
#include "actors/stats_poller.hpp"
#include "actors/storage_actor.hpp"
#include "actors/tenant_registry.hpp"
#include "actors/zooid_actor.hpp"
#include "app/zooid_transport.hpp"
#include "app/config.hpp"
#include "app/metrics_endpoint.hpp"
#include "app/platform_key.hpp"
#include "app/routes.hpp"
#include "core/log.hpp"
#include "http/server.hpp"
#include "storage/database.hpp"
#include "storage/migrations.hpp"

using namespace relayhost;

namespace {

constexpr int exit_config = 2;
constexpr int exit_runtime = 1;
// A tenant's write waits at most this long in the storage actor's mailbox (its
// deadline; a batch commit takes milliseconds, so this only bounds a stuck disk);
// reads and the admin's requests time out after it.
constexpr auto storage_call_timeout = std::chrono::seconds{30};

// CAF's default scheduler is work stealing with max(cores, 4) workers: on a small
// machine the idle workers poll, then nap 50 µs at a time, and every message to an
// idle actor wakes one from its nap. Work sharing (one queue; idle workers block on a
// condition variable) with one worker per core spends ~15 % less CPU per relay
// creation and per GET on 2 cores (docs/performance.md).
void configure_scheduler(caf::actor_system_config& caf_cfg, const config& cfg) {
  size_t threads = cfg.actor_threads > 0 ? static_cast<size_t>(cfg.actor_threads)
                                         : std::max<size_t>(std::thread::hardware_concurrency(), 2);
  caf_cfg.set("scheduler.policy", caf::atom("sharing"));
  caf_cfg.set("scheduler.max-threads", threads);
}

int fail_config(const std::string& line) {
  std::fprintf(stderr, "relayhost: %s\n", line.c_str());
  return exit_config;
}

} // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << help_text();
      return 0;
    }
    if (arg == "--version") {
      std::cout << "relayhost " << RELAYHOST_VERSION << "\n";
      return 0;
    }
    return fail_config(std::string("unknown argument \"") + argv[i] + "\" (see --help)");
  }

  auto loaded = load_config(process_env());
  if (auto* err = std::get_if<config_error>(&loaded))
    return fail_config(err->line());
  const config cfg = std::get<config>(std::move(loaded));
  log::level lvl{};
  log::parse_level(cfg.log_level, lvl);
  log::configure(lvl, cfg.log_format == "json");

  // SIGINT/SIGTERM are taken by sigwait below; block them before any thread starts
  // so no other thread receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // Storage first: migrations run before anything else starts.
  std::string db_error;
  auto db = storage::open_database(cfg.database_path, &db_error);
  if (!db)
    return fail_config("DATABASE_URL: " + db_error);
  auto applied = storage::migrate(*db, storage::embedded_migrations(), &db_error);
  if (!applied)
    return fail_config("DATABASE_URL: " + db_error);
  for (auto& name : *applied)
    log::info("migration applied", {{"name", name}});

  auto data_dir = std::filesystem::path(cfg.database_path).parent_path().string();
  auto key = load_platform_key(cfg.platform_secret_hex, data_dir);
  if (!key.key)
    return fail_config(key.error);
  auto platform_pubkey = key.key->pubkey_hex();
  log::info(key.generated ? "platform key generated" : "platform key loaded",
            {{"npub", nostr::to_npub(platform_pubkey)},
             {"source", key.file.empty() ? std::string("PLATFORM_SECRET") : key.file}});
  if (!cfg.nwc_url)
    log::info("billing disabled: NWC_URL is not set");
  if (cfg.indexer_relays.empty())
    log::info("notifications disabled: NOSTR_INDEXER_RELAYS is not set");

  caf::actor_system_config caf_cfg;
  configure_scheduler(caf_cfg, cfg);
  caf::actor_system sys{caf_cfg};
  auto storage_stats = std::make_shared<storage_counters>();
  storage_options storage_opts;
  storage_opts.counters = storage_stats;
  auto storage = spawn_storage(sys, std::move(db), storage_opts);

  // zooid: the HTTP client runs on its own io thread; the actor never waits on it.
  zooid_context zctx{cfg.relay_domain, cfg.admin_pubkeys, cfg.plans};
  auto box = std::make_shared<const sealed_box>(key.key->bytes());
  auto http_client = std::make_shared<http::client>(http::client::options{});
  auto zooid_health_state = std::make_shared<zooid_health>();
  auto zenv = std::make_shared<zooid_env>();
  zenv->ctx = zctx;
  zenv->url_base = "http://" + cfg.zooid_api.host_header;
  zenv->base_path = cfg.zooid_api.base_path;
  zenv->box = box;
  zenv->platform_signer = std::make_shared<const nostr::signer>(*key.key);
  zenv->now = [] { return static_cast<int64_t>(std::time(nullptr)); };
  zenv->retry_base = std::chrono::seconds{cfg.zooid_retry_base_seconds};
  zenv->retry_max = std::chrono::seconds{cfg.zooid_retry_max_seconds};
  zenv->retry_limit = cfg.zooid_retry_limit;
  zenv->transport = make_zooid_transport(http_client, cfg.zooid_api, std::chrono::seconds{cfg.zooid_timeout_seconds});
  zenv->storage = storage;
  zenv->health = zooid_health_state;
  auto zooid = sys.spawn(zooid_actor_impl, std::shared_ptr<const zooid_env>(zenv));
  log::info("zooid settings for this relayhost",
            {{"API_HOST", cfg.zooid_api.host_header}, {"API_WHITELIST", platform_pubkey}});

  auto views = std::make_shared<view_board>();
  auto env = std::make_shared<tenant_env>();
  env->views = views;
  env->rules = relay_rules{cfg.plans, cfg.reserved_subdomains};
  env->relay_domain = cfg.relay_domain;
  env->box = box;
  env->now = [] { return static_cast<int64_t>(std::time(nullptr)); };
  env->idle_timeout = std::chrono::seconds{cfg.tenant_idle_seconds};
  env->storage_timeout = storage_call_timeout;
  env->storage = storage;
  env->zooid = zooid;
  env->zooid_ctx = zctx;
  auto registry = sys.spawn(tenant_registry_impl, std::shared_ptr<const tenant_env>(env));
  caf::anon_send(zooid, start_atom::value, registry);
  auto aenv = std::make_shared<admin_env>();
  aenv->relay_domain = cfg.relay_domain;
  aenv->storage = storage;
  aenv->registry = registry;
  aenv->storage_timeout = storage_call_timeout;
  auto admin = sys.spawn(admin_actor_impl, std::shared_ptr<const admin_env>(aenv));
  // Operators' view: actor stats cached in atomics, so a scrape never waits on an actor.
  auto ops = std::make_shared<ops_stats>();
  auto poller = sys.spawn(stats_poller_impl, ops, registry, zooid, storage, stats_poller_options{});

  app_context ctx;
  ctx.sys = &sys;
  ctx.cfg = &cfg;
  ctx.storage = storage;
  ctx.registry = registry;
  ctx.views = views;
  ctx.admin = admin;
  ctx.zooid_status = zooid_health_state;

  http::server_options opts;
  opts.host = cfg.listen.host;
  opts.port = cfg.listen.port;
  opts.public_url = cfg.public_url;
  opts.io_threads = static_cast<size_t>(cfg.io_threads);
  opts.nip98_max_skew = cfg.nip98_max_skew_seconds;
  opts.shutdown_grace = std::chrono::seconds{cfg.shutdown_grace_seconds};
  opts.on_complete = http_request_recorder{};
  std::string metrics_error;
  auto metrics = start_metrics_endpoint(
    cfg.metrics, {storage_stats, zooid_health_state, ops, [&sys] { return sys.registry().running(); }}, &metrics_error);
  http::server server{opts, make_router(ctx)};
  std::optional<std::string> listen_error;
  if (!metrics)
    listen_error = "METRICS_ADDR: " + metrics_error;
  else
    listen_error = server.start();
  if (listen_error) {
    log::error("cannot start the HTTP listener", {{"error", *listen_error}});
    if (metrics)
      metrics->stop();
    http_client->stop();
    for (auto a : {caf::actor_cast<caf::actor>(poller), caf::actor_cast<caf::actor>(admin),
                   caf::actor_cast<caf::actor>(zooid), caf::actor_cast<caf::actor>(registry),
                   caf::actor_cast<caf::actor>(storage)})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sys.await_all_actors_done();
    return exit_runtime;
  }
  log::info("relayhost listening",
            {{"address", cfg.listen.host + ":" + std::to_string(server.port())},
             {"public_url", cfg.public_url},
             {"version", RELAYHOST_VERSION}});

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log::info("shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  server.stop();
  metrics->stop();
  http_client->stop();
  caf::anon_send_exit(poller, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(admin, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(zooid, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(storage, caf::exit_reason::user_shutdown);
  sys.await_all_actors_done();
  log::info("stopped");
  return 0;
}
