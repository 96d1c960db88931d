// What rendering a relay list costs: an nlohmann DOM per relay through
// domain/views.cpp relay_to_json, an outer object, dump with error_handler replace
// (how GET /tenant/relays rendered until views), against append_relay_json, which
// GET routes use now and which appends the same bytes straight to a string. The
// outputs are checked to be byte-identical before timing, over relays with plain
// and awkward strings. One thread; interleaved rounds; the
// best round is reported (interference only slows a round down).
//
//   bench_tenant_json [--relays 3] [--iterations 20000] [--rounds 7]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/model.hpp"
#include "domain/page.hpp"
#include "domain/views.hpp"

using namespace relayhost;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

// -- the DOM, as before -------------------------------------------

std::string render_nlohmann(const std::vector<relay>& relays, std::string_view domain,
                            std::optional<int64_t> next) {
  json items = json::array();
  for (auto& r : relays) {
    json j;
    relay_to_json(r, domain, j);
    items.push_back(std::move(j));
  }
  json out{{"items", std::move(items)}, {"next_cursor", next ? json(encode_cursor(*next)) : json(nullptr)}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

// -- what GET routes do now: domain/views.cpp append_relay_json --------------------

std::string render_direct(const std::vector<relay>& relays, std::string_view domain, std::optional<int64_t> next) {
  std::string out;
  out.reserve(64 + relays.size() * 640);
  out += "{\"items\":[";
  bool first = true;
  for (auto& r : relays) {
    if (!first)
      out += ',';
    first = false;
    append_relay_json(out, r, domain);
  }
  out += "],\"next_cursor\":";
  if (next)
    out += "\"" + encode_cursor(*next) + "\"";
  else
    out += "null";
  out += '}';
  return out;
}

relay sample_relay(size_t k, bool awkward) {
  relay r;
  r.id = "5a0000000000000000000000000000" + std::to_string(10 + k);
  r.tenant = std::string(63, 'a') + std::to_string(k % 10);
  r.subdomain = "bench-relay-" + std::to_string(k);
  r.name = awkward ? "Caf\xc3\xa9 \"quoted\" \\ tab\t nl\n \x01 end" : "Relay " + std::to_string(k);
  r.description = awkward ? "\xe2\x9c\x93 unicode, </script>, \x1f" : "";
  if (awkward)
    r.icon = "https://example.com/icon.png";
  r.plan = "free";
  r.status = relay_status::active;
  r.sync.state = awkward ? sync_state::pending : sync_state::synced;
  r.sync.attempts = 1;
  if (awkward)
    r.sync.error = "zooid answered 503: \"busy\"";
  else
    r.sync.last_attempt_at = 1764000000;
  r.created_at = r.updated_at = 1764000000 + static_cast<int64_t>(k);
  r.seq = static_cast<int64_t>(k + 1);
  return r;
}

} // namespace

int main(int argc, char** argv) {
  size_t relays_n = 3, iterations = 20000, rounds = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--relays") relays_n = std::stoul(argv[i + 1]);
    else if (a == "--iterations") iterations = std::stoul(argv[i + 1]);
    else if (a == "--rounds") rounds = std::stoul(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: bench_tenant_json [--relays N] [--iterations N] [--rounds N]\n");
      return 2;
    }
  }
  const std::string domain = "spaces.coracle.social";

  // Byte-identical output first, on plain and awkward relays, with and without a cursor.
  for (bool awkward : {false, true})
    for (std::optional<int64_t> next : {std::optional<int64_t>{}, std::optional<int64_t>{42}}) {
      std::vector<relay> rs;
      for (size_t k = 0; k < 3; ++k)
        rs.push_back(sample_relay(k, awkward && k == 1));
      auto a = render_nlohmann(rs, domain, next), b = render_direct(rs, domain, next);
      if (a != b) {
        std::fprintf(stderr, "outputs differ:\n%s\n%s\n", a.c_str(), b.c_str());
        return 1;
      }
    }

  std::vector<relay> rs;
  for (size_t k = 0; k < relays_n; ++k)
    rs.push_back(sample_relay(k, false));
  size_t bytes = render_nlohmann(rs, domain, std::nullopt).size();
  double best_a = 1e99, best_b = 1e99;
  size_t sink = 0;
  for (size_t round = 0; round < rounds; ++round) {
    auto t0 = clock_type::now();
    for (size_t i = 0; i < iterations; ++i)
      sink += render_nlohmann(rs, domain, std::nullopt).size();
    auto t1 = clock_type::now();
    for (size_t i = 0; i < iterations; ++i)
      sink += render_direct(rs, domain, std::nullopt).size();
    auto t2 = clock_type::now();
    best_a = std::min(best_a, std::chrono::duration<double, std::micro>(t1 - t0).count() / iterations);
    best_b = std::min(best_b, std::chrono::duration<double, std::micro>(t2 - t1).count() / iterations);
  }
  std::printf("relay list of %zu (%zu bytes), best of %zu rounds × %zu: nlohmann DOM + dump %.2f us; "
              "direct append %.2f us (%.1fx); outputs byte-identical (checked)%s\n",
              relays_n, bytes, rounds, iterations, best_a, best_b, best_a / best_b, sink ? "" : " ");
  return 0;
}
