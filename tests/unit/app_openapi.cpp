// The OpenAPI document the real router serves at GET /openapi.json, against that
// router: every routed (method, template) is documented and every documented one
// is routed, with no exceptions (a route api.md promises but nobody serves yet is
// in the catalog only, never in the served document). Plus: the document is
// well-formed OpenAPI 3.1 as far as we can check without a validator (every $ref
// resolves, path parameters declared, auth matches).
#undef CAF_SUITE  // the tests' precompiled header already set it to "unnamed"
#define CAF_SUITE app_openapi
#include <caf/test/unit_test.hpp>

#include <functional>
#include <iostream>
#include <set>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "app/config.hpp"
#include "app/openapi.hpp"
#include "app/routes.hpp"

using namespace relayhost;
using json = nlohmann::json;

namespace {

using operation_key = std::pair<std::string, std::string>;  // (METHOD, /openapi/{path})

const std::set<std::string> http_methods{"get", "put", "post", "delete", "options", "head", "patch", "trace"};

std::string upper(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string describe(const std::set<operation_key>& ops) {
  std::string out;
  for (auto& [m, p] : ops)
    out += "\n  " + m + " " + p;
  return out.empty() ? std::string(" (none)") : out;
}

struct fixture {
  config cfg;
  json doc;
  std::shared_ptr<http::router> router;

  fixture() {
    // Test clock on, so routes that exist only with BILLING_TEST_CLOCK=1 are registered.
    cfg.billing_test_clock = true;
    cfg.public_url = "http://127.0.0.1:3000";
    app_context ctx;  // no actor system: building routes must not touch actors
    ctx.cfg = &cfg;
    router = make_router(ctx);
    doc = json::parse(serve_openapi(*router));
  }

  // The body GET /openapi.json answers, through the router as a request would reach it.
  static std::string serve_openapi(const http::router& r) {
    auto m = r.match("GET", "/openapi.json");
    CAF_REQUIRE(m.matched != nullptr);
    http::api_response got;
    m.matched->handler(http::api_request{}, http::responder{[&](http::api_response&& res) { got = std::move(res); }});
    CAF_REQUIRE_EQUAL(got.status, 200);
    return got.body;
  }

  static std::set<operation_key> operations_of(const json& d) {
    std::set<operation_key> out;
    for (auto& [path, item] : d.at("paths").items())
      for (auto& [method, op] : item.items())
        if (http_methods.count(method))
          out.emplace(upper(method), path);
    return out;
  }

  std::set<operation_key> documented() const { return operations_of(doc); }

  std::set<operation_key> routed() const {
    std::set<operation_key> out;
    for (auto& r : router->routes())
      out.emplace(r.method, openapi_path(r.templ));
    return out;
  }

  const json* operation(const std::string& method, const std::string& path) const {
    auto& paths = doc.at("paths");
    if (!paths.contains(path))
      return nullptr;
    auto lower = method;
    for (auto& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto& item = paths.at(path);
    return item.contains(lower) ? &item.at(lower) : nullptr;
  }
};

void collect_refs(const json& j, std::vector<std::string>& out) {
  if (j.is_object()) {
    for (auto& [k, v] : j.items()) {
      if (k == "$ref" && v.is_string())
        out.push_back(v.get<std::string>());
      else
        collect_refs(v, out);
    }
  } else if (j.is_array()) {
    for (auto& v : j)
      collect_refs(v, out);
  }
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(openapi_tests, fixture)

CAF_TEST(the document is OpenAPI 3.1 with the NIP-98 scheme) {
  std::string version = doc.at("openapi").get<std::string>();
  CAF_CHECK_EQUAL(version.substr(0, 4), "3.1.");
  CAF_CHECK(doc.at("info").contains("title"));
  std::string info_version = doc.at("info").at("version").get<std::string>();
  CAF_CHECK_EQUAL(info_version, RELAYHOST_VERSION);
  const json& scheme = doc.at("components").at("securitySchemes").at("nip98");
  std::string type = scheme.at("type").get<std::string>();
  std::string name = scheme.at("scheme").get<std::string>();
  CAF_CHECK_EQUAL(type, "http");
  CAF_CHECK_EQUAL(name, "Nostr");
  for (auto schema : {"Tenant", "Relay", "Invoice", "Error", "RelayPage", "InvoicePage", "TenantPage", "AuditPage"})
    CAF_CHECK(doc.at("components").at("schemas").contains(schema));
}

CAF_TEST(every route is documented and every documented route is routed) {
  auto documented_ops = documented();
  auto routed_ops = routed();
  CAF_REQUIRE(!routed_ops.empty());
  std::set<operation_key> undocumented, unrouted;
  for (auto& r : routed_ops)
    if (!documented_ops.count(r))
      undocumented.insert(r);
  for (auto& d : documented_ops)
    if (!routed_ops.count(d))
      unrouted.insert(d);
  std::cout << "app_openapi: " << routed_ops.size() << " operations routed, " << documented_ops.size()
            << " served in the document" << std::endl;
  if (!undocumented.empty())
    CAF_FAIL("routed but missing from the OpenAPI catalog (app/openapi.cpp):" << describe(undocumented));
  if (!unrouted.empty())
    CAF_FAIL("listed in /openapi.json but nothing serves it:" << describe(unrouted));
  CAF_CHECK(undocumented.empty() && unrouted.empty());
}

CAF_TEST(operations of the catalog that are not routed are not served) {
  auto catalog = operations_of(json::parse(openapi_catalog()));
  auto routed_ops = routed();
  std::set<operation_key> pending;
  for (auto& c : catalog)
    if (!routed_ops.count(c))
      pending.insert(c);
  // Printed so the test log shows what api.md promises that is not served yet.
  std::cout << "app_openapi: in the catalog, not routed yet:" << describe(pending) << std::endl;
  for (auto& p : pending)
    if (documented().count(p))
      CAF_FAIL("served document lists an unrouted operation: " << p.first << " " << p.second);
  // The filter itself: a router with only /healthz and /openapi.json serves exactly those two.
  http::router small;
  small.add("GET", "/healthz", http::auth_mode::none, [](http::api_request&&, http::responder) {});
  add_openapi_route(small);
  auto served = operations_of(json::parse(serve_openapi(small)));
  std::set<operation_key> want{{"GET", "/healthz"}, {"GET", "/openapi.json"}};
  CAF_CHECK(served == want);
  if (served != want)
    CAF_FAIL("a two-route router serves:" << describe(served));
}

CAF_TEST(authentication in the document matches the router) {
  for (auto& r : router->routes()) {
    const json* op = operation(r.method, openapi_path(r.templ));
    if (!op)
      continue;  // reported by the test above
    bool documented_nip98 = false;
    if (op->contains("security"))
      for (auto& requirement : op->at("security"))
        documented_nip98 = documented_nip98 || requirement.contains("nip98");
    bool routed_nip98 = r.auth == http::auth_mode::nip98;
    if (documented_nip98 != routed_nip98)
      CAF_FAIL(r.method << " " << r.templ << ": router auth " << (routed_nip98 ? "nip98" : "none")
                        << ", document says " << (documented_nip98 ? "nip98" : "none"));
    if (routed_nip98)
      CAF_CHECK(op->at("responses").contains("401"));
  }
  // Every /tenant and /admin operation is authenticated (api.md), routed or not.
  auto catalog = json::parse(openapi_catalog());
  for (auto& [path, item] : catalog.at("paths").items()) {
    bool guarded = path.rfind("/tenant", 0) == 0 || path.rfind("/admin", 0) == 0;
    for (auto& [method, op] : item.items()) {
      if (!http_methods.count(method))
        continue;
      if (guarded != op.contains("security"))
        CAF_FAIL(method << " " << path << ": security does not match api.md");
    }
  }
}

CAF_TEST(every path parameter is declared and every reference resolves) {
  std::set<std::string> operation_ids;
  for (auto& [path, item] : doc.at("paths").items()) {
    std::set<std::string> templated;
    for (size_t open = path.find('{'); open != std::string::npos; open = path.find('{', open + 1))
      templated.insert(path.substr(open + 1, path.find('}', open) - open - 1));
    for (auto& [method, op] : item.items()) {
      if (!http_methods.count(method))
        continue;
      std::set<std::string> declared;
      auto declare = [&](const json& params) {
        for (auto p : params) {
          if (p.contains("$ref"))
            p = doc.at(json::json_pointer(p.at("$ref").get<std::string>().substr(1)));
          if (p.at("in") == "path") {
            declared.insert(p.at("name").get<std::string>());
            CAF_CHECK(p.at("required") == true);
          }
        }
      };
      if (item.contains("parameters"))
        declare(item.at("parameters"));
      if (op.contains("parameters"))
        declare(op.at("parameters"));
      if (declared != templated)
        CAF_FAIL(method << " " << path << ": path parameters not declared as in the template");
      auto id = op.at("operationId").get<std::string>();
      if (!operation_ids.insert(id).second)
        CAF_FAIL("operationId " << id << " used twice");
      CAF_CHECK(!op.at("responses").empty());
    }
  }
  std::vector<std::string> refs;
  collect_refs(doc, refs);
  CAF_CHECK(!refs.empty());
  for (auto& ref : refs) {
    CAF_REQUIRE(ref.rfind("#/", 0) == 0);
    bool resolves = doc.contains(json::json_pointer(ref.substr(1)));
    if (!resolves)
      CAF_FAIL("unresolved $ref " << ref);
  }
}

CAF_TEST(router templates convert to OpenAPI paths) {
  CAF_CHECK_EQUAL(openapi_path("/tenant/relays/:id"), "/tenant/relays/{id}");
  CAF_CHECK_EQUAL(openapi_path("/admin/tenants/:pubkey"), "/admin/tenants/{pubkey}");
  CAF_CHECK_EQUAL(openapi_path("/a/:x/b/:y"), "/a/{x}/b/{y}");
  CAF_CHECK_EQUAL(openapi_path("/healthz"), "/healthz");
  CAF_CHECK_EQUAL(openapi_path("/openapi.json"), "/openapi.json");
  CAF_CHECK_EQUAL(openapi_path("/"), "/");
}

CAF_TEST(GET /openapi.json serves the document without authentication) {
  http::router r;
  add_openapi_route(r, "https://hosting.example");
  auto m = r.match("GET", "/openapi.json");
  CAF_REQUIRE(m.matched != nullptr);
  CAF_CHECK(m.matched->auth == http::auth_mode::none);
  http::api_response got;
  got.status = 0;
  m.matched->handler(http::api_request{}, http::responder{[&](http::api_response&& res) { got = std::move(res); }});
  CAF_CHECK_EQUAL(got.status, 200);
  CAF_CHECK_EQUAL(got.content_type, "application/json; charset=utf-8");
  CAF_CHECK_EQUAL(got.body, openapi_document(r.routes(), "https://hosting.example"));
  auto served = json::parse(got.body);
  std::string server_url = served.at("servers").at(0).at("url").get<std::string>();
  CAF_CHECK_EQUAL(server_url, "https://hosting.example");
  std::string fixture_url = doc.at("servers").at(0).at("url").get<std::string>();
  CAF_CHECK_EQUAL(fixture_url, "http://127.0.0.1:3000");  // the router's PUBLIC_URL
  std::string default_url = json::parse(openapi_catalog()).at("servers").at(0).at("url").get<std::string>();
  CAF_CHECK_EQUAL(default_url, "/");
}

CAF_TEST_FIXTURE_SCOPE_END()
