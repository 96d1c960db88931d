// The route table on its own: template parsing, matching, parameters, the 404 /
// 405 / 400 outcomes and the listing the OpenAPI test reads.
#undef CAF_SUITE  // the tests' precompiled header already set it to "unnamed"
#define CAF_SUITE http_router
#include <caf/test/unit_test.hpp>

#include <stdexcept>
#include <string>

#include "http/router.hpp"

using namespace relayhost;
using namespace relayhost::http;

namespace {

route_handler noop() {
  return [](api_request&&, responder) {};
}

// A router like the real one, with tags in the handler so tests can tell which ran.
router api_like() {
  router r;
  r.add("GET", "/healthz", auth_mode::none, noop());
  r.add("GET", "/tenant", auth_mode::nip98, noop());
  r.add("GET", "/tenant/relays", auth_mode::nip98, noop());
  r.add("POST", "/tenant/relays", auth_mode::nip98, noop());
  r.add("GET", "/tenant/relays/:id", auth_mode::nip98, noop());
  r.add("PUT", "/tenant/relays/:id", auth_mode::nip98, noop());
  r.add("DELETE", "/tenant/relays/:id", auth_mode::nip98, noop());
  r.add("GET", "/admin/tenants/:pubkey", auth_mode::nip98, noop());
  return r;
}

std::string code_of(const router::match_result& m) {
  return m.error ? std::string(api_code(m.error->code)) : std::string("ok");
}

} // namespace

CAF_TEST(literal routes match exactly) {
  auto r = api_like();
  auto m = r.match("GET", "/tenant");
  CAF_REQUIRE(m.matched != nullptr);
  CAF_CHECK_EQUAL(m.matched->templ, "/tenant");
  CAF_CHECK(m.matched->auth == auth_mode::nip98);
  CAF_CHECK_EQUAL(std::string(m.templ), "/tenant");
  CAF_CHECK(m.params.empty());
  CAF_CHECK(!m.error);
  auto h = r.match("GET", "/healthz");
  CAF_REQUIRE(h.matched != nullptr);
  CAF_CHECK(h.matched->auth == auth_mode::none);
}

CAF_TEST(parameters are captured and percent decoded) {
  auto r = api_like();
  auto m = r.match("PUT", "/tenant/relays/abc%20def%2Fx+y");
  CAF_REQUIRE(m.matched != nullptr);
  CAF_CHECK_EQUAL(m.matched->method, "PUT");
  CAF_REQUIRE_EQUAL(m.params.size(), 1u);
  CAF_CHECK_EQUAL(m.params[0].first, "id");
  CAF_CHECK_EQUAL(m.params[0].second, "abc def/x+y");  // '+' is not a space in a path
  auto a = r.match("GET", "/admin/tenants/npub1xyz");
  CAF_REQUIRE(a.matched != nullptr);
  CAF_CHECK_EQUAL(a.params[0].first, "pubkey");
  CAF_CHECK_EQUAL(a.params[0].second, "npub1xyz");
}

CAF_TEST(a malformed escape in a parameter is 400 invalid-field naming it) {
  auto r = api_like();
  for (auto path : {"/tenant/relays/%zz", "/tenant/relays/ab%2", "/tenant/relays/%"}) {
    auto m = r.match("GET", path);
    CAF_CHECK(m.matched == nullptr);
    CAF_REQUIRE(m.error.has_value());
    CAF_CHECK_EQUAL(code_of(m), "invalid-field");
    CAF_CHECK_EQUAL(m.error->field, "id");
    CAF_CHECK_EQUAL(http_status(m.error->code), 400);
    CAF_CHECK_EQUAL(std::string(m.templ), "/tenant/relays/:id");
  }
}

CAF_TEST(unknown paths and trailing slashes are 404) {
  auto r = api_like();
  for (auto path : {"/nope", "/tenant/", "//tenant", "/tenant/relays/", "/tenant/relays/x/y", "/", "",
                    "tenant", "/TENANT", "/tenant/relay%73"}) {
    auto m = r.match("GET", path);
    CAF_CHECK(m.matched == nullptr);
    CAF_CHECK_EQUAL(code_of(m), "not-found");
    CAF_CHECK(m.templ.empty());
    CAF_CHECK(m.allow.empty());
  }
  // Deeper than any template can be: 404 without a scan.
  CAF_CHECK_EQUAL(code_of(r.match("GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s")), "not-found");
}

CAF_TEST(a known path with another method is 405 with Allow) {
  auto r = api_like();
  auto m = r.match("POST", "/tenant/relays/r1");
  CAF_CHECK(m.matched == nullptr);
  CAF_CHECK_EQUAL(code_of(m), "method-not-allowed");
  CAF_CHECK_EQUAL(http_status(m.error->code), 405);
  CAF_CHECK_EQUAL(m.allow, "GET, HEAD, PUT, DELETE");
  CAF_CHECK_EQUAL(std::string(m.templ), "/tenant/relays/:id");
  auto c = r.match("DELETE", "/tenant/relays");
  CAF_CHECK_EQUAL(c.allow, "GET, HEAD, POST");
  // Methods are case-sensitive (RFC 9110 §9.1).
  CAF_CHECK_EQUAL(code_of(r.match("get", "/tenant")), "method-not-allowed");
}

CAF_TEST(HEAD is served by the GET route unless a HEAD route exists) {
  auto r = api_like();
  auto m = r.match("HEAD", "/tenant/relays/r1");
  CAF_REQUIRE(m.matched != nullptr);
  CAF_CHECK_EQUAL(m.matched->method, "GET");
  CAF_CHECK_EQUAL(m.params[0].second, "r1");
  CAF_CHECK_EQUAL(code_of(r.match("HEAD", "/nope")), "not-found");
  router own;
  own.add("GET", "/x", auth_mode::none, noop());
  own.add("HEAD", "/x", auth_mode::none, noop());
  CAF_CHECK_EQUAL(own.match("HEAD", "/x").matched->method, "HEAD");
  router post_only;
  post_only.add("POST", "/x", auth_mode::none, noop());
  CAF_CHECK_EQUAL(code_of(post_only.match("HEAD", "/x")), "method-not-allowed");
  CAF_CHECK_EQUAL(post_only.match("HEAD", "/x").allow, "POST");
}

CAF_TEST(a literal segment beats a parameter among routes with the method) {
  router r;
  r.add("GET", "/x/:id", auth_mode::none, noop());
  r.add("GET", "/x/export", auth_mode::none, noop());
  r.add("POST", "/x/special", auth_mode::none, noop());
  r.add("GET", "/:a/:b/c", auth_mode::none, noop());
  r.add("GET", "/:a/b/:c", auth_mode::none, noop());
  CAF_CHECK_EQUAL(r.match("GET", "/x/export").matched->templ, "/x/export");
  CAF_CHECK_EQUAL(r.match("GET", "/x/other").matched->templ, "/x/:id");
  // /x/special has no GET, so GET falls to the parameter route...
  CAF_CHECK_EQUAL(r.match("GET", "/x/special").matched->templ, "/x/:id");
  // ...and a method none of them has lists all of them.
  CAF_CHECK_EQUAL(r.match("PUT", "/x/special").allow, "GET, HEAD, POST");
  // The first differing position decides.
  CAF_CHECK_EQUAL(r.match("GET", "/q/b/c").matched->templ, "/:a/b/:c");
}

CAF_TEST(the root template) {
  router r;
  r.add("GET", "/", auth_mode::none, noop());
  CAF_CHECK(r.match("GET", "/").matched != nullptr);
  CAF_CHECK_EQUAL(code_of(r.match("GET", "//")), "not-found");
}

CAF_TEST(bad templates and duplicates are refused) {
  router r;
  r.add("GET", "/a/:id", auth_mode::none, noop());
  auto refused = [&](const char* method, const char* templ) {
    try {
      r.add(method, templ, auth_mode::none, noop());
    } catch (const std::invalid_argument&) {
      return true;
    }
    return false;
  };
  CAF_CHECK(refused("GET", "/a/:id"));       // twice
  CAF_CHECK(refused("GET", "/a/:other"));    // same template, other name
  CAF_CHECK(refused("PUT", "/a/:other"));    // one shape, one set of names
  CAF_CHECK(refused("GET", "a"));            // not absolute
  CAF_CHECK(refused("GET", "/a/"));          // empty segment
  CAF_CHECK(refused("GET", "/a//b"));
  CAF_CHECK(refused("GET", "/b/:"));         // empty name
  CAF_CHECK(refused("GET", "/b/:Id"));       // names are lowercase identifiers
  CAF_CHECK(refused("GET", "/b/:x/:x"));     // repeated name
  CAF_CHECK(refused("", "/c"));
  CAF_CHECK(!refused("PUT", "/a/:id"));
  CAF_CHECK(!refused("GET", "/a/:id/b"));
}

CAF_TEST(routes lists every registration in order) {
  auto r = api_like();
  auto list = r.routes();
  CAF_REQUIRE_EQUAL(list.size(), 8u);
  CAF_CHECK_EQUAL(list[0].method, "GET");
  CAF_CHECK_EQUAL(list[0].templ, "/healthz");
  CAF_CHECK(list[0].auth == auth_mode::none);
  CAF_CHECK_EQUAL(list[3].method, "POST");
  CAF_CHECK_EQUAL(list[3].templ, "/tenant/relays");
  CAF_CHECK(list[3].auth == auth_mode::nip98);
  CAF_CHECK_EQUAL(list[7].templ, "/admin/tenants/:pubkey");
}
