// api.md's rules for relay bodies, as pure functions: subdomain syntax and
// reserved names, lengths in code points, unknown fields by dot path, statuses.
#define CAF_SUITE domain_rules
#include <caf/test/unit_test.hpp>

#include "domain/relay_rules.hpp"

using namespace relayhost;

namespace {

relay_rules rules() {
  return relay_rules{{{"free", 0}, {"basic", 5000}}, {"extra-reserved"}};
}

api_error create_error(const std::string& body) {
  auto r = parse_relay_create(body, rules());
  CAF_REQUIRE(std::holds_alternative<api_error>(r));
  return std::get<api_error>(r);
}

} // namespace

// By value (CAF_CHECK_EQUAL binds by reference; *optional-temporary would dangle).
size_t len(const char* s) {
  return utf8_length(s).value_or(static_cast<size_t>(-1));
}

CAF_TEST(utf8_length_counts_code_points_and_rejects_invalid_utf8) {
  CAF_CHECK_EQUAL(len(""), 0u);
  CAF_CHECK_EQUAL(len("abc"), 3u);
  CAF_CHECK_EQUAL(len("é"), 1u);
  CAF_CHECK_EQUAL(len("🚀🚀"), 2u);
  CAF_CHECK_EQUAL(len("\xe2\x80\xa8"), 1u); // U+2028
  CAF_CHECK(!utf8_length("\xc3"));                   // truncated
  CAF_CHECK(!utf8_length("\xc0\xaf"));               // overlong '/'
  CAF_CHECK(!utf8_length("\xed\xa0\x80"));           // surrogate
  CAF_CHECK(!utf8_length("\xf4\x90\x80\x80"));       // > U+10FFFF
  CAF_CHECK(!utf8_length("\xff"));
}

CAF_TEST(subdomain_rules) {
  auto ok = [](const char* s) { return !check_subdomain(s, rules()); };
  CAF_CHECK(ok("abc"));
  CAF_CHECK(ok("my-relay-2"));
  CAF_CHECK(ok(std::string(63, 'a').c_str()));
  CAF_CHECK(!ok("ab"));
  CAF_CHECK(!ok(std::string(64, 'a').c_str()));
  CAF_CHECK(!ok("Abc"));
  CAF_CHECK(!ok("1abc"));
  CAF_CHECK(!ok("-abc"));
  CAF_CHECK(!ok("abc-"));
  CAF_CHECK(!ok("a_bc"));
  CAF_CHECK(!ok("a.bc"));
  CAF_CHECK(!ok("ab c"));
  CAF_CHECK(!ok("abç"));
  for (auto* reserved : {"www", "api", "admin", "app", "mail", "smtp", "ftp", "ns1", "ns2", "relay", "relays",
                         "status", "billing", "docs", "static", "cdn", "extra-reserved"})
    CAF_CHECK(!ok(reserved));
  auto e = check_subdomain("www", rules());
  CAF_REQUIRE(e);
  CAF_CHECK_EQUAL(e->field, "subdomain");
  CAF_CHECK(e->code == errc::invalid_field);
}

CAF_TEST(create_accepts_a_full_body) {
  auto r = parse_relay_create(
    R"({"subdomain":"good-one","name":"Good","plan":"basic","description":"d","icon":"https://x.y/z.png",
        "policy":{"public_join":true}})",
    rules());
  CAF_REQUIRE(std::holds_alternative<relay_create>(r));
  auto& c = std::get<relay_create>(r);
  CAF_CHECK_EQUAL(c.subdomain, "good-one");
  CAF_CHECK_EQUAL(c.plan, "basic");
  CAF_CHECK_EQUAL(*c.icon, "https://x.y/z.png");
  CAF_CHECK(c.policy.public_join);
  CAF_CHECK(!c.policy.strip_signatures);
}

CAF_TEST(create_errors_name_the_field) {
  CAF_CHECK(create_error("{").code == errc::invalid_json);
  CAF_CHECK(create_error("\"str\"").code == errc::invalid_json);
  CAF_CHECK(create_error("{\"subdomain\":\"a\xff\"}").code == errc::invalid_json);
  CAF_CHECK_EQUAL(create_error(R"({"name":"x","plan":"free"})").field, "subdomain");
  CAF_CHECK_EQUAL(create_error(R"({"subdomain":"good-one","plan":"free"})").field, "name");
  CAF_CHECK_EQUAL(create_error(R"({"subdomain":"good-one","name":"x"})").field, "plan");
  CAF_CHECK_EQUAL(create_error(R"({"subdomain":5,"name":"x","plan":"free"})").field, "subdomain");
  CAF_CHECK_EQUAL(create_error(R"({"subdomain":"good-one","name":"a\u0007b","plan":"free"})").field, "name");
  CAF_CHECK_EQUAL(create_error(R"({"subdomain":"good-one","name":"x","plan":"free","icon":"https://"})").field,
                  "icon");
  CAF_CHECK_EQUAL(create_error(R"({"subdomain":"good-one","name":"x","plan":"free","policy":[]})").field, "policy");
  CAF_CHECK_EQUAL(
    create_error(R"({"subdomain":"good-one","name":"x","plan":"free","policy":{"public_join":true,"x":1}})").field,
    "policy.x");
  CAF_CHECK_EQUAL(create_error(R"({"subdomain":"good-one","name":"x","plan":"free","status":"active"})").field,
                  "status");
  // 64 code points is the limit, whatever the bytes.
  std::string name64;
  for (int i = 0; i < 64; ++i)
    name64 += "é";
  CAF_CHECK(std::holds_alternative<relay_create>(
    parse_relay_create(R"({"subdomain":"good-one","plan":"free","name":")" + name64 + "\"}", rules())));
  CAF_CHECK_EQUAL(create_error(R"({"subdomain":"good-one","plan":"free","name":")" + name64 + "é\"}").field,
                  "name");
}

CAF_TEST(change_statuses_depend_on_who_asks) {
  auto tenant = [](const std::string& b) { return parse_relay_change(b, rules(), status_authority::tenant); };
  auto admin = [](const std::string& b) { return parse_relay_change(b, rules(), status_authority::admin); };
  CAF_CHECK(std::holds_alternative<relay_change>(tenant(R"({"status":"inactive"})")));
  auto code_of = [](std::variant<relay_change, api_error> v) { return std::get<api_error>(v).code; };
  CAF_CHECK(code_of(tenant(R"({"status":"suspended"})")) == errc::forbidden);
  CAF_CHECK(code_of(tenant(R"({"status":"delinquent"})")) == errc::forbidden);
  CAF_CHECK(code_of(admin(R"({"status":"delinquent"})")) == errc::forbidden);
  auto s = admin(R"({"status":"suspended","reason":"spam"})");
  CAF_REQUIRE(std::holds_alternative<relay_change>(s));
  CAF_CHECK(*std::get<relay_change>(s).status == relay_status::suspended);
  auto reason_error = std::get<api_error>(tenant(R"({"reason":"x"})"));
  CAF_CHECK_EQUAL(reason_error.field, "reason");
  auto icon_clear = tenant(R"({"icon":null,"description":null})");
  CAF_REQUIRE(std::holds_alternative<relay_change>(icon_clear));
  auto cleared = std::get<relay_change>(icon_clear);
  CAF_CHECK(cleared.icon.has_value());
  CAF_CHECK(!cleared.icon->has_value());
  CAF_CHECK_EQUAL(*cleared.description, "");
  auto empty = tenant("{}");
  CAF_CHECK(std::holds_alternative<relay_change>(empty));
}

CAF_TEST(schema_replaces_dashes) {
  CAF_CHECK_EQUAL(schema_for_subdomain("my-relay-2"), "my_relay_2");
  CAF_CHECK_EQUAL(schema_for_subdomain("plain"), "plain");
}
