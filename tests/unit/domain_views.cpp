// relay_json (the relay object written directly) against relay_to_json dumped as
// the API did before: byte for byte, over relays that cover every branch and escape.
#define CAF_SUITE domain_views
#include <caf/test/unit_test.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/views.hpp"

using namespace relayhost;

namespace {

std::string reference(const relay& r, std::string_view domain) {
  nlohmann::json j;
  relay_to_json(r, domain, j);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace

CAF_TEST(relay_json is relay_to_json dumped byte for byte) {
  std::vector<relay> relays;
  relay r;
  r.id = "5a000000000000000000000000000010";
  r.tenant = std::string(64, 'a');
  r.subdomain = "my-relay";
  r.name = "My relay";
  r.plan = "free";
  r.created_at = r.updated_at = 1764000000;
  relays.push_back(r);
  r.icon = "https://example.com/i.png";
  r.description = "quote \" backslash \\ tab \t nl \n nul " + std::string(1, '\0') + " \x1f del \x7f";
  r.status = relay_status::delinquent;
  r.policy = {true, true};
  r.sync = {sync_state::failed, std::string("zooid answered 500: \"boom\""), 4, 1764000123};
  r.seq = 7;
  relays.push_back(r);
  r.name = u8"caf\u00e9 \u65e5\u672c \U0001F600 \u2028";
  r.sync = {sync_state::synced, std::nullopt, 1, std::nullopt};
  r.status = relay_status::inactive;
  r.created_at = -1;
  r.updated_at = INT64_MAX;
  relays.push_back(r);
  r.name = "invalid \xff\xfe UTF-8";  // not accepted by the API; still answered like dump()
  relays.push_back(r);
  for (auto& x : relays)
    for (std::string_view domain : {"spaces.example", "relays.test"})
      CAF_CHECK_EQUAL(relay_json(x, domain), reference(x, domain));
}
