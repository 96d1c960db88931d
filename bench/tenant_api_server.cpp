// relayhost's tenant API with two knobs the real binary does not have, for
// contrast runs of bench/run_tenant_api.py (the headline numbers come from the
// real build/relayhost):
//
//   --max-batch N   the storage actor's group-commit batch limit (1: one commit
//                   per write, what a naive storage layer does; default 512 as in
//                   relayhost)
//   --no-zooid      no zooid client actor: a new relay is not pushed anywhere (so
//                   the request's own cost is seen without the push's Schnorr
//                   signature and its follow-up sync-state write)
//   --inline-checkpoints  WAL checkpoints in the committing write (SQLite's default:
//                   it copies and fsyncs whenever the WAL passes 1000 pages), instead
//                   of relayhost's background checkpointer (storage/wal_checkpointer.hpp)
//   --caf-threads N CAF scheduler threads (relayhost: ACTOR_THREADS, default one per
//                   core; here too unless given)
//   --caf-policy P  CAF scheduler policy: sharing (relayhost's, and the default here:
//                   one queue, idle workers block on a condition variable) or
//                   stealing (CAF's default; idle workers poll, then sleep in short naps)
//
// Configuration comes from the same environment variables as relayhost
// (DATABASE_URL, PORT, PUBLIC_URL, LOG_LEVEL, IO_THREADS, ZOOID_*, …). The actors
// are wired by app/wiring.hpp, as in relayhost (no metrics listener here).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <pthread.h>
#include <algorithm>
#include <atomic>
#include <string>
#include <thread>

#include <caf/all.hpp>
#include <SQLiteCpp/Database.h>

#include "app/config.hpp"
#include "app/platform_key.hpp"
#include "app/routes.hpp"
#include "app/wiring.hpp"
#include "core/log.hpp"
#include "http/server.hpp"
#include "storage/database.hpp"
#include "storage/migrations.hpp"

using namespace relayhost;

int main(int argc, char** argv) {
  size_t max_batch = default_storage_max_batch;
  bool zooid_on = true;
  size_t caf_threads = 0;
  bool inline_checkpoints = false;
  std::string caf_policy;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--max-batch" && i + 1 < argc)
      max_batch = std::stoul(argv[++i]);
    else if (a == "--no-zooid")
      zooid_on = false;
    else if (a == "--inline-checkpoints")
      inline_checkpoints = true;
    else if (a == "--caf-threads" && i + 1 < argc)
      caf_threads = std::stoul(argv[++i]);
    else if (a == "--caf-policy" && i + 1 < argc && (std::string(argv[i + 1]) == "sharing" ||
                                                    std::string(argv[i + 1]) == "stealing"))
      caf_policy = argv[++i];
    else {
      std::fprintf(stderr, "usage: bench_tenant_api_server [--max-batch N] [--no-zooid] [--caf-threads N] "
                           "[--caf-policy sharing|stealing] [--inline-checkpoints]\n");
      return 2;
    }
  }
  auto loaded = load_config(process_env());
  if (auto* err = std::get_if<config_error>(&loaded)) {
    std::fprintf(stderr, "%s\n", err->line().c_str());
    return 2;
  }
  const config cfg = std::get<config>(std::move(loaded));
  log::level lvl{};
  log::parse_level(cfg.log_level, lvl);
  log::configure(lvl, cfg.log_format == "json");

  const sigset_t stop_signals = block_stop_signals();

  std::string db_error;
  auto db = storage::open_database(cfg.database_path, &db_error);
  if (!db || !storage::migrate(*db, storage::embedded_migrations(), &db_error)) {
    std::fprintf(stderr, "DATABASE_URL: %s\n", db_error.c_str());
    return 2;
  }
  auto data_dir = std::filesystem::path(cfg.database_path).parent_path().string();
  auto key = load_platform_key(cfg.platform_secret_hex, data_dir);
  if (!key.key) {
    std::fprintf(stderr, "%s\n", key.error.c_str());
    return 2;
  }

  caf::actor_system_config caf_cfg;
  configure_scheduler(caf_cfg, cfg);
  if (caf_threads != 0)
    caf_cfg.set("scheduler.max-threads", caf_threads);
  if (!caf_policy.empty())
    caf_cfg.set("scheduler.policy", caf::atom_from_string(caf_policy));
  caf::actor_system sys{caf_cfg};
  wiring_options wopts;
  wopts.storage.max_batch = max_batch;
  wopts.storage.background_checkpoints = !inline_checkpoints;
  wopts.zooid = zooid_on;
  auto actors = wire_actors(sys, cfg, std::move(db), *key.key, wopts);

  http::server_options opts;
  opts.host = cfg.listen.host;
  opts.port = cfg.listen.port;
  opts.public_url = cfg.public_url;
  opts.io_threads = static_cast<size_t>(cfg.io_threads);
  opts.nip98_max_skew = cfg.nip98_max_skew_seconds;
  opts.shutdown_grace = std::chrono::seconds{cfg.shutdown_grace_seconds};
  http::server server{opts, make_router(actors.context(sys, cfg))};
  if (auto err = server.start()) {
    std::fprintf(stderr, "%s\n", err->c_str());
    std::_Exit(1);  // the actors are not worth an orderly stop in a bench
  }
  std::printf("tenant API bench server on %s:%u (max_batch %zu, zooid %s, checkpoints %s, CAF %s × %zu)\n",
              cfg.listen.host.c_str(), server.port(), max_batch, zooid_on ? "on" : "off",
              inline_checkpoints ? "on commit" : "in the background",
              caf::to_string(caf::get_or(caf_cfg, "scheduler.policy", caf::atom("stealing"))).c_str(),
              caf::get_or(caf_cfg, "scheduler.max-threads", size_t{0}));
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  server.stop();
  actors.stop();
  sys.await_all_actors_done();
  return 0;
}
