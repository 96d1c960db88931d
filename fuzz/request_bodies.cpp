// The request bodies of every write route, and the list routes' query parameters:
// relay create and change (tenant and admin), the clock move, limit/cursor. An
// accepted body holds only valid values; a refused one names a code.
#include "billing/clock.hpp"
#include "domain/page.hpp"
#include "domain/relay_rules.hpp"
#include "fuzz/fuzz_support.hpp"

using namespace relayhost;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const relay_rules rules{{{"free", 0}, {"basic", 5000}, {"growth", 25000}}, {"reserved"}};
  auto in = fuzz::text(data, size);
  auto created = parse_relay_create(in, rules);
  if (auto* r = std::get_if<relay_create>(&created)) {
    FUZZ_CHECK(!check_subdomain(r->subdomain, rules).has_value());
    FUZZ_CHECK(find_plan(rules.plans, r->plan) != nullptr);
  }
  (void) parse_relay_change(in, rules, status_authority::tenant);
  (void) parse_relay_change(in, rules, status_authority::admin);
  // The answer is the new offset from the real clock: never a move back.
  auto moved = billing::parse_clock_move(std::string(in), 1900000000, 1800000000);
  if (auto* offset = std::get_if<int64_t>(&moved))
    FUZZ_CHECK(1800000000 + *offset >= 1900000000);
  auto [limit, cursor] = fuzz::split(in);
  auto page = parse_page(std::string(limit), std::string(cursor));
  if (auto* p = std::get_if<page_request>(&page))
    FUZZ_CHECK(p->limit >= 1 && p->limit <= page_max_limit);
  if (auto pos = decode_cursor(cursor))
    FUZZ_CHECK(decode_cursor(encode_cursor(*pos)) == pos);
  return 0;
}
