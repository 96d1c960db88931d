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

#include "app/config.hpp"
#include "app/metrics_endpoint.hpp"
#include "app/platform_key.hpp"
#include "app/routes.hpp"
#include "app/wiring.hpp"
#include "core/log.hpp"
#include "http/server.hpp"
#include "storage/admin_queries.hpp"
#include "storage/clock_store.hpp"
#include "storage/database.hpp"
#include "storage/migrations.hpp"

using namespace relayhost;

namespace {

constexpr int exit_config = 2;
constexpr int exit_runtime = 1;

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
  const sigset_t stop_signals = block_stop_signals();

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
  // billing.md: removing a plan that relays use must not make them free.
  for (auto& [plan, relays] : storage::relays_by_plan(*db))
    if (!find_plan(cfg.plans, plan))
      return fail_config("PLANS: plan \"" + plan + "\" is used by " + std::to_string(relays) +
                         (relays == 1 ? " relay" : " relays") +
                         " but is not in PLANS; put it back (a removed plan would make them free)");

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
    log::warn("notifications disabled: NOSTR_INDEXER_RELAYS is not set (no DMs are written or sent)");

  caf::actor_system_config caf_cfg;
  configure_scheduler(caf_cfg, cfg);
  caf::actor_system sys{caf_cfg};
  wiring_options wopts;
  if (cfg.billing_test_clock) {
    wopts.clock_offset = storage::load_clock_offset(*db);
    log::warn("billing test clock on: admins may move billing time forward (POST /admin/clock)",
              {{"offset_seconds", std::to_string(wopts.clock_offset)}});
  }
  auto actors = wire_actors(sys, cfg, std::move(db), *key.key, wopts);
  log::info("zooid settings for this relayhost",
            {{"API_HOST", cfg.zooid_api.host_header}, {"API_WHITELIST", platform_pubkey}});

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
    cfg.metrics, {actors.storage_stats, actors.zooid_status, actors.ops, [&sys] { return sys.registry().running(); },
     actors.pool_stats, actors.notifier_stats, actors.billing_stats},
    &metrics_error);
  http::server server{opts, make_router(actors.context(sys, cfg))};
  std::optional<std::string> listen_error;
  if (!metrics)
    listen_error = "METRICS_ADDR: " + metrics_error;
  else
    listen_error = server.start();
  if (listen_error) {
    log::error("cannot start the HTTP listener", {{"error", *listen_error}});
    if (metrics)
      metrics->stop();
    actors.stop();
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
  actors.stop();
  sys.await_all_actors_done();
  log::info("stopped");
  return 0;
}
