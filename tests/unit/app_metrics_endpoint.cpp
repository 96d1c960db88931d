// The operators' metrics: the request recorder's bounded labels, the scrape-time
// metrics read from the actors' atomics (and nothing when a source is absent),
// the metrics router, and a real metrics listener answering GET /metrics.
#undef CAF_SUITE  // the tests' precompiled header already set it to "unnamed"
#define CAF_SUITE app_metrics_endpoint
#include <caf/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <string>

#include "app/metrics_endpoint.hpp"

using namespace relayhost;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

/// Whether any sample line (not HELP/TYPE) starts with `series`.
bool has_sample(const std::string& text, const std::string& series) {
  return ("\n" + text).find("\n" + series) != std::string::npos;
}

/// A number as the exposition writes it (shortest round-trip form, e.g. 5e-04).
std::string num(double v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

http::request_record record(std::string_view method, std::string_view route, int status, double ms) {
  return {method, route, status, ms};
}

/// GET `path` from 127.0.0.1:`port` with a blocking socket; the whole response.
std::string http_get(uint16_t port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return {};
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (send(fd, req.data(), req.size(), 0) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return {};
  }
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;)
    out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

} // namespace

CAF_TEST(the recorder counts requests by route method and status) {
  metrics::registry reg;
  http_request_recorder rec{reg};
  auto copy = rec;  // copies share the families (server_options holds a copy)
  rec(record("GET", "/healthz", 200, 1.5));
  copy(record("GET", "/healthz", 200, 0.2));
  rec(record("PUT", "/tenant/relays/:id", 404, 3));
  rec(record("GET", "-", 404, 0.1));
  auto text = reg.expose();
  CAF_CHECK(has_line(text, "# TYPE relayhost_http_requests_total counter"));
  CAF_CHECK(has_line(text, R"(relayhost_http_requests_total{route="/healthz",method="GET",status="200"} 2)"));
  CAF_CHECK(has_line(text, R"(relayhost_http_requests_total{route="/tenant/relays/:id",method="PUT",status="404"} 1)"));
  CAF_CHECK(has_line(text, R"(relayhost_http_requests_total{route="-",method="GET",status="404"} 1)"));
  CAF_CHECK(has_line(text, "# TYPE relayhost_http_request_duration_seconds histogram"));
  CAF_CHECK(has_line(text, R"(relayhost_http_request_duration_seconds_count{route="/healthz"} 2)"));
  // 0.2 ms is within the first bound (0.5 ms), 1.5 ms within the third (2.5 ms).
  CAF_CHECK(has_line(text, R"(relayhost_http_request_duration_seconds_bucket{route="/healthz",le=")" + num(0.0005)
                             + R"("} 1)"));
  CAF_CHECK(has_line(text, R"(relayhost_http_request_duration_seconds_bucket{route="/healthz",le=")" + num(0.001)
                             + R"("} 1)"));
  CAF_CHECK(has_line(text, R"(relayhost_http_request_duration_seconds_bucket{route="/healthz",le=")" + num(0.0025)
                             + R"("} 2)"));
  CAF_CHECK(has_line(text, R"(relayhost_http_request_duration_seconds_bucket{route="/healthz",le="+Inf"} 2)"));
}

CAF_TEST(an empty route or method is recorded as a dash) {
  metrics::registry reg;
  http_request_recorder rec{reg};
  rec(record("", "", 400, 0));
  auto text = reg.expose();
  CAF_CHECK(has_line(text, R"(relayhost_http_requests_total{route="-",method="-",status="400"} 1)"));
}

CAF_TEST(source metrics read the atomics at scrape time) {
  metrics::registry reg;
  auto sc = std::make_shared<storage_counters>();
  auto zh = std::make_shared<zooid_health>();
  auto ops = std::make_shared<ops_stats>();
  size_t running = 12;
  register_source_metrics(reg, {sc, zh, ops, [&running] { return running; }, nullptr, nullptr, nullptr});
  sc->transactions_committed = 5;
  sc->writes_committed = 40;
  sc->writes_failed = 2;
  sc->reads = 9;
  sc->reads_failed = 1;
  sc->last_batch_size = 3;
  sc->largest_batch = 17;
  zh->record(false, 1764000123);
  ops->tenants_loaded = 4;
  ops->tenants_failed = 1;
  ops->zooid_queued = 6;
  ops->zooid_synced = 30;
  ops->zooid_failed = 2;
  auto text = reg.expose();
  CAF_CHECK(has_line(text, "relayhost_actors_running 12"));
  CAF_CHECK(has_line(text, R"(relayhost_build_info{version=")" RELAYHOST_VERSION R"("} 1)"));
  CAF_CHECK(has_line(text, R"(relayhost_storage_transactions_total{outcome="committed"} 5)"));
  CAF_CHECK(has_line(text, R"(relayhost_storage_transactions_total{outcome="failed"} 0)"));
  CAF_CHECK(has_line(text, R"(relayhost_storage_writes_total{outcome="committed"} 40)"));
  CAF_CHECK(has_line(text, R"(relayhost_storage_writes_total{outcome="failed"} 2)"));
  CAF_CHECK(has_line(text, "relayhost_storage_reads_total 9"));
  CAF_CHECK(has_line(text, "relayhost_storage_reads_failed_total 1"));
  CAF_CHECK(has_line(text, "relayhost_storage_last_batch_writes 3"));
  CAF_CHECK(has_line(text, "relayhost_storage_largest_batch_writes 17"));
  CAF_CHECK(has_line(text, R"(relayhost_zooid_health{state="unreachable"} 1)"));
  CAF_CHECK(has_line(text, R"(relayhost_zooid_health{state="ok"} 0)"));
  CAF_CHECK(has_line(text, "relayhost_zooid_health_timestamp_seconds 1764000123"));
  CAF_CHECK(has_line(text, "relayhost_tenant_actors_loaded 4"));
  CAF_CHECK(has_line(text, "relayhost_tenant_actors_failed_total 1"));
  CAF_CHECK(has_line(text, "relayhost_zooid_sync_queue 6"));
  CAF_CHECK(has_line(text, R"(relayhost_zooid_syncs_total{outcome="synced"} 30)"));
  CAF_CHECK(has_line(text, R"(relayhost_zooid_syncs_total{outcome="failed"} 2)"));
  // Rows by status appear only once counted.
  CAF_CHECK(!has_sample(text, "relayhost_relays{"));
  ops->relays_by_status[3] = 2;
  ops->counted_at = 1764000000;
  running = 13;
  text = reg.expose();
  CAF_CHECK(has_line(text, R"(relayhost_relays{status="delinquent"} 2)"));
  CAF_CHECK(has_line(text, R"(relayhost_relays{status="active"} 0)"));
  CAF_CHECK(has_line(text, R"(relayhost_tenants{status="suspended"} 0)"));
  CAF_CHECK(has_line(text, R"(relayhost_invoices{status="open"} 0)"));
  CAF_CHECK(has_line(text, R"(relayhost_relays_sync{state="pending"} 0)"));
  CAF_CHECK(has_line(text, "relayhost_actors_running 13"));
  // Cleared: the families stay (HELP/TYPE) but nothing reads the sources any more.
  unregister_source_metrics(reg);
  text = reg.expose();
  CAF_CHECK(has_line(text, "# TYPE relayhost_actors_running gauge"));
  CAF_CHECK(has_line(text, "# TYPE relayhost_storage_reads_total counter"));
  // Every callback it installed is cleared: no relayhost_ sample is left at all.
  CAF_CHECK(!has_sample(text, "relayhost_"));
}

CAF_TEST(absent sources expose no samples) {
  metrics::registry reg;
  register_source_metrics(reg, {});
  auto text = reg.expose();
  CAF_CHECK(has_line(text, "# TYPE relayhost_storage_writes_total counter"));
  CAF_CHECK(!has_sample(text, "relayhost_storage_writes_total"));
  CAF_CHECK(!has_sample(text, "relayhost_actors_running"));
  CAF_CHECK(!has_sample(text, "relayhost_zooid_health"));
  CAF_CHECK(!has_sample(text, "relayhost_tenants"));
}

CAF_TEST(the metrics router serves only GET /metrics) {
  metrics::registry reg;
  reg.counter_family("relayhost_test_total", "A test counter.").with({}).inc(3);
  auto r = make_metrics_router(reg);
  auto routes = r->routes();
  CAF_REQUIRE_EQUAL(routes.size(), 1u);
  CAF_CHECK_EQUAL(routes[0].method, "GET");
  CAF_CHECK_EQUAL(routes[0].templ, "/metrics");
  CAF_CHECK(routes[0].auth == http::auth_mode::none);
  auto m = r->match("GET", "/metrics");
  CAF_REQUIRE(m.matched != nullptr);
  http::api_response got;
  m.matched->handler(http::api_request{}, http::responder{[&](http::api_response&& res) { got = std::move(res); }});
  CAF_CHECK_EQUAL(got.status, 200);
  CAF_CHECK_EQUAL(got.content_type, std::string(metrics::content_type));
  CAF_CHECK(has_line(got.body, "relayhost_test_total 3"));
  auto other = r->match("GET", "/openapi.json");
  CAF_CHECK(other.matched == nullptr);
}

CAF_TEST(the metrics listener answers a scrape and its sources go with it) {
  metrics::registry reg;
  auto sc = std::make_shared<storage_counters>();
  sc->reads = 21;
  std::string error;
  auto ep = start_metrics_endpoint({"127.0.0.1", 0}, {sc, nullptr, nullptr, {}, nullptr, nullptr, nullptr}, &error, reg);
  CAF_REQUIRE(ep != nullptr);
  CAF_CHECK(error.empty());
  CAF_REQUIRE(ep->port() != 0);
  auto res = http_get(ep->port(), "/metrics");
  CAF_CHECK_EQUAL(res.substr(0, 15), "HTTP/1.1 200 OK");
  CAF_CHECK(res.find("Content-Type: text/plain; version=0.0.4; charset=utf-8") != std::string::npos);
  CAF_CHECK(res.find("\nrelayhost_storage_reads_total 21\n") != std::string::npos);
  auto missing = http_get(ep->port(), "/tenant");
  CAF_CHECK_EQUAL(missing.substr(0, 12), "HTTP/1.1 404");
  // A second listener on the same port fails with the reason.
  metrics::registry other;
  std::string busy;
  auto second = start_metrics_endpoint({"127.0.0.1", ep->port()}, {sc, nullptr, nullptr, {}, nullptr, nullptr, nullptr}, &busy, other);
  CAF_CHECK(second == nullptr);
  CAF_CHECK(busy.find("cannot listen") != std::string::npos);
  CAF_CHECK(other.expose().find("relayhost_storage_reads_total 21") == std::string::npos);
  ep->stop();
  CAF_CHECK(reg.expose().find("relayhost_storage_reads_total 21") == std::string::npos);
}
