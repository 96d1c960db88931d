// The zooid request bodies written directly (zooid_desired_config_json,
// zooid_create_body_json) against the JSON-tree versions they replace on the push
// path: byte for byte, over relays that cover every branch and every escape.
#define CAF_SUITE domain_zooid_config
#include <caf/test/unit_test.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/zooid_config.hpp"
#include "nostr/sha256.hpp"

using namespace relayhost;

namespace {

relay base_relay() {
  relay r;
  r.id = "5a000000000000000000000000000010";
  r.tenant = std::string(64, 'a');
  r.subdomain = "my-relay-2";
  r.name = "My relay";
  r.description = "A relay";
  r.plan = "free";
  return r;
}

std::vector<relay> variations() {
  std::vector<relay> out;
  auto r = base_relay();
  out.push_back(r);
  r.icon = "https://example.com/icon.png";
  out.push_back(r);
  r.plan = "basic";  // paid: blossom on
  r.status = relay_status::inactive;
  r.policy.public_join = true;
  out.push_back(r);
  r.status = relay_status::suspended;
  r.policy.strip_signatures = true;
  r.policy.public_join = false;
  r.plan = "unknown-plan";
  out.push_back(r);
  r.name = "quote \" backslash \\ slash / tab \t nl \n cr \r bs \b ff \f nul " + std::string(1, '\0') +
           " unit \x1f del \x7f";
  r.description = u8"caf\u00e9 \u65e5\u672c \U0001F600 \u2028 <>&'";
  r.icon.reset();
  out.push_back(r);
  r.description.clear();
  r.name = "";
  out.push_back(r);
  return out;
}

} // namespace

CAF_TEST(the written bodies are the JSON trees dumped byte for byte) {
  std::vector<zooid_context> contexts = {
    {"spaces.example", {}, {{"free", 0}, {"basic", 5000}}},
    {"spaces.example", {std::string(64, 'b')}, {{"free", 0}, {"basic", 5000}}},
    {"relays.test", {std::string(64, 'b'), std::string(64, 'c')}, {{"basic", 5000}}},
  };
  const std::string secret(64, 'f');
  for (auto& ctx : contexts)
    for (auto& r : variations()) {
      CAF_CHECK_EQUAL(zooid_desired_config_json(r, ctx), zooid_desired_config(r, ctx).dump());
      CAF_CHECK_EQUAL(zooid_create_body_json(r, ctx, secret), zooid_create_body(r, ctx, secret).dump());
      CAF_CHECK_EQUAL(zooid_fingerprint(r, ctx), nostr::sha256_hex(zooid_desired_config(r, ctx).dump()));
    }
}

CAF_TEST(the fingerprint changes with every field zooid sees) {
  zooid_context ctx{"spaces.example", {std::string(64, 'b')}, {{"free", 0}, {"basic", 5000}}};
  auto r = base_relay();
  auto fp = zooid_fingerprint(r, ctx);
  auto changed = [&](auto edit) {
    auto x = base_relay();
    edit(x);
    return zooid_fingerprint(x, ctx) != fp;
  };
  CAF_CHECK(changed([](relay& x) { x.name = "other"; }));
  CAF_CHECK(changed([](relay& x) { x.description = "other"; }));
  CAF_CHECK(changed([](relay& x) { x.icon = "https://example.com/i.png"; }));
  CAF_CHECK(changed([](relay& x) { x.plan = "basic"; }));
  CAF_CHECK(changed([](relay& x) { x.status = relay_status::inactive; }));
  CAF_CHECK(changed([](relay& x) { x.policy.public_join = true; }));
  CAF_CHECK(changed([](relay& x) { x.policy.strip_signatures = true; }));
  // Not pushed to zooid: no new push for them.
  CAF_CHECK(!changed([](relay& x) { x.sync.attempts = 3; }));
  CAF_CHECK(!changed([](relay& x) { x.updated_at = 42; }));
}

namespace {

template <class Exception, class F>
bool throws(F f) {
  try {
    f();
  } catch (const Exception&) {
    return true;
  }
  return false;
}

} // namespace

CAF_TEST(invalid UTF-8 is refused as dump refuses it) {
  zooid_context ctx{"spaces.example", {}, {{"free", 0}}};
  auto r = base_relay();
  r.name = "bad \xff byte";
  CAF_CHECK(throws<nlohmann::json::type_error>([&] { zooid_desired_config(r, ctx).dump(); }));
  CAF_CHECK(throws<std::invalid_argument>([&] { zooid_desired_config_json(r, ctx); }));
  CAF_CHECK(throws<std::invalid_argument>([&] { zooid_create_body_json(r, ctx, std::string(64, 'f')); }));
}
