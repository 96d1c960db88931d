// The views GET routes answer from and the renderer they use: byte for byte what
// serializing the same answer with nlohmann gives (awkward and invalid strings
// included), and pagination as api.md says.
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

std::shared_ptr<const tenant_view> view_of(const std::vector<relay>& relays) {
  auto v = std::make_shared<tenant_view>();
  for (auto& r : relays)
    v->relays.push_back(std::make_shared<const relay>(r));
  return v;
}

std::string nlohmann_relay(const relay& r) {
  json j;
  relay_to_json(r, domain, j);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
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

CAF_TEST(the_relay_renderer_writes_what_nlohmann_writes) {
  for (int i = 0; i < 8; ++i) {
    auto r = make_relay(i);
    CAF_CHECK_EQUAL(relay_json(r, domain), nlohmann_relay(r));
  }
  // Every byte value alone, every control character, and strings that are not
  // UTF-8 (a field written behind the API's back): replaced as nlohmann does.
  auto r = make_relay(1);
  for (int c = 0; c < 256; ++c) {
    r.name = "a" + std::string(1, static_cast<char>(c)) + "z";
    CAF_CHECK_EQUAL(relay_json(r, domain), nlohmann_relay(r));
  }
  for (const char* bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82", "ok \xFF end", "\x80"}) {
    r.description = bad;
    r.sync.error = std::string("err ") + bad;
    r.sync.last_attempt_at = 1764000001;
    r.icon = std::string("https://x/") + bad;
    CAF_CHECK_EQUAL(relay_json(r, domain), nlohmann_relay(r));
  }
  r.subdomain = "quote\"sub";  // not a DNS label, but escaped all the same
  CAF_CHECK_EQUAL(relay_json(r, domain), nlohmann_relay(r));
}

CAF_TEST(pages_are_byte_identical_to_one_serialized_document) {
  for (int n : {0, 1, 3, 7}) {
    auto relays = make_relays(n);
    auto v = view_of(relays);
    for (int64_t limit : {1, 2, 3, 50}) {
      std::vector<std::optional<int64_t>> afters{std::nullopt, int64_t{0}, int64_t{10}, int64_t{11}, int64_t{24},
                                                 int64_t{1000}};
      for (auto after : afters) {
        page_request p{limit, after};
        auto got = render_relay_page(*v, p, domain);
        auto want = reference_page(relays, p);
        CAF_CHECK_EQUAL(got, want);
      }
    }
  }
}

CAF_TEST(walking_the_cursor_visits_every_relay_once) {
  auto relays = make_relays(7);
  auto v = view_of(relays);
  page_request p{3, std::nullopt};
  std::vector<std::string> seen;
  for (int pages = 0; pages < 10; ++pages) {
    auto body = json::parse(render_relay_page(*v, p, domain));
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

CAF_TEST(tenant_and_lookup) {
  tenant t;
  t.pubkey = std::string(64, 'a');
  t.created_at = t.updated_at = 1764000000;
  t.status = tenant_status::suspended;
  json tj;
  tenant_to_json(t, tj);
  CAF_CHECK_EQUAL(render_tenant(t), tj.dump());
  auto v = view_of(make_relays(3));
  CAF_REQUIRE(find_relay(*v, "relay2") != nullptr);
  CAF_CHECK_EQUAL(find_relay(*v, "relay2")->subdomain, "sub-2");
  CAF_CHECK(find_relay(*v, "relay") == nullptr);
  CAF_CHECK(find_relay(*v, "") == nullptr);
}
