// The rendered views GET routes answer from: byte for byte what serializing the
// same answer as one JSON document gives (awkward strings included), pagination as
// api.md says, and changes that re-render only what changed.
#define CAF_SUITE domain_tenant_view
#include <caf/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "domain/tenant_view.hpp"
#include "domain/views.hpp"

using namespace relayhost;
using json = nlohmann::json;

namespace {

const std::string domain = "spaces.example";

relay make_relay(int i) {
  relay r;
  r.id = "relay" + std::to_string(i);
  r.tenant = std::string(64, 'a');
  r.subdomain = "sub-" + std::to_string(i);
  // Quotes, backslashes, controls, non-ASCII, U+2028: what the renderer must escape as nlohmann does.
  r.name = i % 2 ? "plain" : "qu\"ote \\ back\x01slash \xE2\x80\xA8 \xF0\x9F\x98\x80 </script>";
  r.description = i % 3 ? "" : "tab\there\nnewline";
  if (i % 2)
    r.icon = "https://example.com/i.png";
  r.plan = i % 2 ? "free" : "basic";
  r.seq = 10 + i * 7;
  r.created_at = r.updated_at = 1764000000 + i;
  r.status = i == 3 ? relay_status::inactive : relay_status::active;
  return r;
}

std::vector<relay> make_relays(int n) {
  std::vector<relay> out;
  for (int i = 0; i < n; ++i)
    out.push_back(make_relay(i));
  return out;
}

/// The page as one JSON document, the way the actor rendered it before views.
std::string reference_page(const std::vector<relay>& relays, const page_request& p) {
  json items = json::array();
  std::optional<int64_t> next;
  const relay* last = nullptr;
  for (auto& r : relays) {
    if (p.after && r.seq <= *p.after)
      continue;
    if (static_cast<int64_t>(items.size()) == p.limit) {
      next = last->seq;
      break;
    }
    json j;
    relay_to_json(r, domain, j);
    items.push_back(std::move(j));
    last = &r;
  }
  json out{{"items", std::move(items)}, {"next_cursor", next ? json(encode_cursor(*next)) : json(nullptr)}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

CAF_TEST(pages_are_byte_identical_to_one_serialized_document) {
  for (int n : {0, 1, 3, 7}) {
    auto relays = make_relays(n);
    auto v = make_tenant_view(std::nullopt, relays, domain);
    for (int64_t limit : {1, 2, 3, 50}) {
      std::vector<std::optional<int64_t>> afters{std::nullopt, int64_t{0}, int64_t{10}, int64_t{11}, int64_t{24},
                                                 int64_t{1000}};
      for (auto after : afters) {
        page_request p{limit, after};
        auto got = render_relay_page(*v, p);
        auto want = reference_page(relays, p);
        CAF_CHECK_EQUAL(got, want);
      }
    }
  }
}

CAF_TEST(walking_the_cursor_visits_every_relay_once) {
  auto relays = make_relays(7);
  auto v = make_tenant_view(std::nullopt, relays, domain);
  page_request p{3, std::nullopt};
  std::vector<std::string> seen;
  for (int pages = 0; pages < 10; ++pages) {
    auto body = json::parse(render_relay_page(*v, p));
    for (auto& item : body["items"])
      seen.push_back(item["id"]);
    if (body["next_cursor"].is_null())
      break;
    p.after = decode_cursor(body["next_cursor"].get<std::string>());
    CAF_REQUIRE(p.after.has_value());
  }
  CAF_REQUIRE_EQUAL(seen.size(), 7u);
  for (int i = 0; i < 7; ++i)
    CAF_CHECK_EQUAL(seen[i], "relay" + std::to_string(i));
}

CAF_TEST(a_change_re_renders_one_relay_and_shares_the_rest) {
  auto relays = make_relays(3);
  tenant t;
  t.pubkey = std::string(64, 'a');
  t.created_at = t.updated_at = 1764000000;
  auto v1 = make_tenant_view(t, relays, domain);
  CAF_REQUIRE(v1->tenant_json);
  json tj;
  tenant_to_json(t, tj);
  CAF_CHECK_EQUAL(*v1->tenant_json, tj.dump());
  relays[1].name = "renamed";
  auto v2 = with_relay(*v1, relays[1], domain);
  CAF_CHECK_EQUAL(v2->relays.size(), 3u);
  CAF_CHECK(v2->relays[0] == v1->relays[0]);  // shared, not re-rendered
  CAF_CHECK(v2->relays[1] != v1->relays[1]);
  CAF_CHECK(v2->tenant_json == v1->tenant_json);
  auto shown = json::parse(find_rendered_relay(*v2, "relay1")->json);
  CAF_CHECK_EQUAL(shown["name"], "renamed");
  auto before = json::parse(find_rendered_relay(*v1, "relay1")->json);  // v1 is immutable
  CAF_CHECK_EQUAL(before["name"], "plain");
  auto added = make_relay(3);
  relays.push_back(added);
  auto v3 = with_relay(*v2, added, domain);
  CAF_CHECK_EQUAL(render_relay_page(*v3, page_request{}), reference_page(relays, page_request{}));
  t.status = tenant_status::suspended;
  auto v4 = with_tenant(*v3, t);
  auto shown_tenant = json::parse(*v4->tenant_json);
  CAF_CHECK_EQUAL(shown_tenant["status"], "suspended");
  CAF_CHECK(find_rendered_relay(*v4, "nope") == nullptr);
}
