// rh_nwc_cli: relayhost's own NIP-47 stack (websocket client → relay pool → NWC
// client actor, exactly as the server wires them) on the command line, so the
// integration tests can drive every method against wallet services somebody else
// wrote, and the benchmark can time round trips.
//
//   rh_nwc_cli <connection-uri>
//     stdin: one JSON line per request {"method": "...", "params": {...}}; all are
//     sent at once (the client's in-flight bound and FIFO queue apply).
//     stdout: one JSON line per request, in input order:
//       {"kind": "ok"|"wallet_error"|"unknown"|"not_sent", "code", "message",
//        "result": {...}|null, "request_id",
//        "lookup": {"status", "settled_at", "preimage"}   (lookup_invoice with a payment_hash)}
//     stderr, last line: {"requests", "seconds", "cpu_seconds"} (wall and CPU time of
//     the requests, not of start-up).
//   Environment: NWC_TIMEOUT_SECONDS (default 10), NWC_MAX_IN_FLIGHT (default 8),
//   RELAY_TIMEOUT_SECONDS (default 5).
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <future>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/nwc_client.hpp"
#include "actors/relay_pool.hpp"
#include "core/log.hpp"
#include "http/ws_client.hpp"
#include "nostr/keys.hpp"
#include "nostr/nwc.hpp"
#include "nostr/nwc_uri.hpp"
#include "nostr/signer.hpp"

using namespace relayhost;
using json = nlohmann::json;

namespace {

int64_t env_int(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoll(v) : fallback;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

json outcome_json(const nwc_result& r, const json& request) {
  json out{{"kind", to_string(r.kind)}, {"code", r.code}, {"message", r.message}, {"request_id", r.request_id}};
  out["result"] = r.kind == nwc_result::ok ? json::parse(r.result_json, nullptr, false) : json(nullptr);
  auto params = request.value("params", json::object());
  if (r.kind == nwc_result::ok && request.value("method", "") == "lookup_invoice" && params.contains("payment_hash")) {
    auto l = nostr::normalize_lookup(r.result_json, params["payment_hash"].get<std::string>());
    out["lookup"] = {{"status", nostr::to_string(l.status)}, {"settled_at", l.settled_at}, {"preimage", l.preimage}};
  }
  return out;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: rh_nwc_cli <nostr+walletconnect://…>  (requests as JSON lines on stdin)\n";
    return 2;
  }
  std::string why;
  auto uri = nostr::parse_nwc_uri(argv[1], &why);
  if (!uri) {
    std::cerr << "rh_nwc_cli: " << why << "\n";
    return 2;
  }
  log::configure(log::level::warn, false);
  std::vector<json> requests;
  for (std::string line; std::getline(std::cin, line);) {
    if (line.empty())
      continue;
    auto j = json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("method")) {
      std::cerr << "rh_nwc_cli: not a request: " << line << "\n";
      return 2;
    }
    requests.push_back(std::move(j));
  }

  caf::actor_system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));  // as the server runs (app/wiring.cpp)
  cfg.set("scheduler.max-threads", size_t{2});
  caf::actor_system sys{cfg};
  auto relay_timeout = std::chrono::seconds{env_int("RELAY_TIMEOUT_SECONDS", 5)};
  http::ws_client::options wopts;
  wopts.connect_timeout = relay_timeout;
  auto ws = std::make_shared<http::ws_client>(wopts);
  auto penv = std::make_shared<relay_pool_env>();
  penv->connect = [ws](const http::ws_target& t, http::ws_handlers h) { return ws->connect(t, std::move(h)); };
  penv->platform_signer = std::make_shared<const nostr::signer>(nostr::secret_key::generate());
  penv->now = [] { return static_cast<int64_t>(std::time(nullptr)); };
  penv->counters = std::make_shared<relay_pool_counters>();
  auto pool = sys.spawn(relay_pool_impl, std::shared_ptr<const relay_pool_env>(penv));
  auto nenv = std::make_shared<nwc_env>();
  nenv->pool = pool;
  nenv->now = penv->now;
  nenv->timeout = std::chrono::seconds{env_int("NWC_TIMEOUT_SECONDS", 10)};
  nenv->info_timeout = relay_timeout;
  nenv->max_in_flight = static_cast<size_t>(env_int("NWC_MAX_IN_FLIGHT", 8));
  nenv->wallet_kind = "tenant";
  auto client = sys.spawn(nwc_client_impl, *uri, std::shared_ptr<const nwc_env>(nenv));

  auto bound = std::chrono::duration_cast<caf::timespan>(nenv->timeout + 4 * relay_timeout + std::chrono::seconds{5});
  struct collected {
    std::vector<nwc_result> results;
    size_t left = 0;
    std::promise<void> done;
  };
  auto c = std::make_shared<collected>();
  c->results.resize(requests.size());
  c->left = requests.size();
  auto finished = c->done.get_future();
  auto cpu0 = cpu_seconds();
  auto t0 = std::chrono::steady_clock::now();
  if (requests.empty())
    c->done.set_value();
  else
    sys.spawn([=](caf::event_based_actor* self) {
      for (size_t i = 0; i < requests.size(); ++i) {
        auto land = [c, i](nwc_result r) {
          c->results[i] = std::move(r);
          if (--c->left == 0)
            c->done.set_value();
        };
        self->request(client, bound, nwc_atom::value, requests[i]["method"].get<std::string>(),
                      requests[i].value("params", json::object()).dump())
          .then([land](nwc_result& r) { land(std::move(r)); },
                [land](caf::error& err) {
                  nwc_result r;
                  r.kind = nwc_result::unknown;
                  r.message = "no answer from the client: " + caf::to_string(err);
                  land(std::move(r));
                });
      }
    });
  finished.wait();
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto cpu = cpu_seconds() - cpu0;
  for (size_t i = 0; i < requests.size(); ++i)
    std::cout << outcome_json(c->results[i], requests[i]).dump() << "\n";
  std::cout.flush();
  std::cerr << json{{"requests", requests.size()}, {"seconds", seconds}, {"cpu_seconds", cpu}}.dump() << "\n";
  ws->stop();
  caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  return 0;
}
