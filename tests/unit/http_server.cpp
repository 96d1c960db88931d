// The HTTP front-end end to end: a real server on 127.0.0.1 (ephemeral port) and a
// small blocking-style client (its own io_context, every operation under a
// deadline so a misbehaving server fails the test instead of hanging it).
// Timeouts are configured short; the checks are on behaviour (status, connection
// closed), never on tight durations.
#undef CAF_SUITE  // the tests' precompiled header already set it to "unnamed"
#define CAF_SUITE http_server
#include <caf/test/unit_test.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

#include "http/server.hpp"
#include "nostr/keys.hpp"
#include "nostr/nip98.hpp"

using namespace relayhost;
using namespace relayhost::http;
using namespace std::chrono_literals;

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using json = nlohmann::json;

namespace {

using wire = bhttp::response<bhttp::string_body>;

// Generous: only a broken server ever waits this long.
constexpr auto op_deadline = 10s;

class test_client {
public:
  explicit test_client(uint16_t port) : stream_(ioc_) {
    beast::error_code ec;
    stream_.expires_after(op_deadline);
    stream_.async_connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port},
                          [&](beast::error_code e) { ec = e; });
    run();
    if (ec)
      throw std::runtime_error("connect: " + ec.message());
  }

  beast::error_code send(const std::string& bytes) {
    beast::error_code ec;
    stream_.expires_after(op_deadline);
    net::async_write(stream_, net::buffer(bytes), [&](beast::error_code e, size_t) { ec = e; });
    run();
    return ec;
  }

  /// Reads one response; nullopt (and `err`) when the connection failed instead.
  std::optional<wire> read(bool head = false, beast::error_code* err = nullptr) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.skip(head);
    parser.body_limit(1 << 20);
    beast::error_code ec;
    stream_.expires_after(op_deadline);
    bhttp::async_read(stream_, buffer_, parser, [&](beast::error_code e, size_t) { ec = e; });
    run();
    if (err)
      *err = ec;
    if (ec)
      return std::nullopt;
    return parser.release();
  }

  wire request(const std::string& raw, bool head = false) {
    if (auto ec = send(raw))
      throw std::runtime_error("send: " + ec.message());
    beast::error_code ec;
    auto res = read(head, &ec);
    if (!res)
      throw std::runtime_error("read: " + ec.message());
    return std::move(*res);
  }

  /// True when the server closes the connection (EOF or reset) within `limit`;
  /// bytes that arrive meanwhile are dropped.
  bool closed_within(std::chrono::milliseconds limit) {
    if (buffer_.size() > 0)
      buffer_.consume(buffer_.size());
    int fd = stream_.socket().native_handle();
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return false;
      pollfd p{fd, POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(left.count()));
      if (n == 0)
        return false;
      if (n < 0)
        return true;
      char scratch[4096];
      auto got = ::recv(fd, scratch, sizeof scratch, MSG_DONTWAIT);
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
        return true;
    }
  }

private:
  void run() {
    ioc_.restart();
    ioc_.run();
  }

  net::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

std::string get(const std::string& target, const std::string& extra_headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra_headers + "\r\n";
}

std::string with_body(const std::string& method, const std::string& target, const std::string& body,
                      const std::string& extra_headers = "") {
  return method + " " + target + " HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: "
         + std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

json body_of(const wire& res) {
  return json::parse(res.body());
}

// A string member of the JSON body ("<absent>" when missing or not a string).
std::string field(const wire& res, const char* key) {
  auto j = body_of(res);
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "<absent>";
}

struct fixture {
  std::shared_ptr<router> routes = std::make_shared<router>();
  std::unique_ptr<server> srv;
  server_options opts;

  std::mutex mutex;
  std::vector<std::thread> workers;  // answer "later"
  std::vector<responder> held;       // never answered by the handler
  std::vector<std::string> record_text;  // "METHOD route status" per on_complete
  std::atomic<int> handled{0};

  fixture() {
    opts.host = "127.0.0.1";
    opts.port = 0;
    opts.on_complete = [this](const request_record& r) {
      std::lock_guard<std::mutex> guard{mutex};
      record_text.push_back(std::string(r.method) + " " + std::string(r.route) + " " + std::to_string(r.status));
    };
    auto echo = [this](api_request&& req, responder reply) {
      ++handled;
      json j{{"method", req.method}, {"target", req.target}, {"path", req.path},       {"query", req.query},
             {"route", req.route},   {"body", req.body},     {"id", req.request_id}, {"pubkey", req.pubkey},
             {"params", req.params}};
      reply(api_response::json(200, j.dump()));
    };
    routes->add("GET", "/hello", auth_mode::none, echo);
    routes->add("POST", "/echo", auth_mode::none, echo);
    routes->add("GET", "/items/:id", auth_mode::none, echo);
    routes->add("GET", "/auth", auth_mode::nip98, echo);
    routes->add("POST", "/auth", auth_mode::nip98, echo);
    routes->add("GET", "/later", auth_mode::none, [this](api_request&&, responder reply) {
      std::lock_guard<std::mutex> guard{mutex};
      workers.emplace_back([reply] {
        std::this_thread::sleep_for(300ms);
        reply(api_response::json(200, R"({"later":true})"));
      });
    });
    routes->add("GET", "/fixed", auth_mode::none, [](api_request&&, responder reply) {
      reply(api_response::json(200, R"({"fixed":true})"));
    });
    routes->add("GET", "/drop", auth_mode::none, [](api_request&&, responder) {});
    routes->add("GET", "/hold", auth_mode::none, [this](api_request&&, responder reply) {
      std::lock_guard<std::mutex> guard{mutex};
      held.push_back(std::move(reply));
    });
    routes->add("GET", "/throw", auth_mode::none, [](api_request&&, responder) -> void {
      throw std::runtime_error("secret internal detail");
    });
  }

  ~fixture() {
    std::vector<std::thread> to_join;
    {
      std::lock_guard<std::mutex> guard{mutex};
      to_join.swap(workers);
    }
    for (auto& t : to_join)
      t.join();
    if (srv)
      srv->stop();
  }

  void start() {
    srv = std::make_unique<server>(opts, routes);
    auto err = srv->start();
    CAF_REQUIRE(!err);
    CAF_REQUIRE(srv->port() != 0);
  }

  test_client connect() {
    return test_client{srv->port()};
  }

  // Until `n` requests have reached a handler that answers later (/later) or never
  // (/hold): a stop() issued before that would see an idle connection instead.
  bool reached_handlers(size_t n, std::chrono::milliseconds limit = 10s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      {
        std::lock_guard<std::mutex> guard{mutex};
        if (workers.size() + held.size() >= n)
          return true;
      }
      if (std::chrono::steady_clock::now() > deadline)
        return false;
      std::this_thread::sleep_for(1ms);
    }
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(http_server_tests, fixture)

CAF_TEST(keep alive serves two requests on one connection with the standard headers) {
  start();
  auto c = connect();
  auto a = c.request(get("/hello"));
  auto b = c.request(get("/hello?x=1"));
  CAF_CHECK_EQUAL(a.result_int(), 200u);
  CAF_CHECK_EQUAL(b.result_int(), 200u);
  CAF_CHECK(a.keep_alive());
  CAF_CHECK_EQUAL(std::string(a[bhttp::field::content_type]), "application/json; charset=utf-8");
  CAF_CHECK_EQUAL(std::string(a[bhttp::field::server]), "relayhost");
  CAF_CHECK_EQUAL(std::string(a[bhttp::field::cache_control]), "no-store");
  auto id_a = std::string(a["X-Request-Id"]), id_b = std::string(b["X-Request-Id"]);
  CAF_CHECK(!id_a.empty());
  CAF_CHECK_NOT_EQUAL(id_a, id_b);
  CAF_CHECK_EQUAL(field(a, "id"), id_a);  // the handler saw the same id
  CAF_CHECK_EQUAL(field(b, "query"), "x=1");
}

CAF_TEST(the handler gets every field of the request) {
  start();
  auto c = connect();
  auto res = c.request(get("/items/a%20b%2Fc?limit=5&cursor=x%3D"));
  CAF_REQUIRE_EQUAL(res.result_int(), 200u);
  auto j = body_of(res);
  CAF_CHECK_EQUAL(j["method"].get<std::string>(), "GET");
  CAF_CHECK_EQUAL(j["target"].get<std::string>(), "/items/a%20b%2Fc?limit=5&cursor=x%3D");
  CAF_CHECK_EQUAL(j["path"].get<std::string>(), "/items/a%20b%2Fc");
  CAF_CHECK_EQUAL(j["query"].get<std::string>(), "limit=5&cursor=x%3D");
  CAF_CHECK_EQUAL(j["route"].get<std::string>(), "/items/:id");
  CAF_CHECK_EQUAL(j["params"][0][0].get<std::string>(), "id");
  CAF_CHECK_EQUAL(j["params"][0][1].get<std::string>(), "a b/c");
  CAF_CHECK_EQUAL(j["pubkey"].get<std::string>(), "");
  auto post = c.request(with_body("POST", "/echo", R"({"a":1})"));
  CAF_CHECK_EQUAL(field(post, "body"), R"({"a":1})");
}

CAF_TEST(pipelined requests are answered in order) {
  start();
  auto c = connect();
  // The first answer comes later from another thread, the second at once: order must hold.
  CAF_REQUIRE(!c.send(get("/later") + get("/hello") + get("/items/3")));
  auto first = c.read(), second = c.read(), third = c.read();
  CAF_REQUIRE(first && second && third);
  CAF_CHECK_EQUAL(first->body(), R"({"later":true})");
  CAF_CHECK_EQUAL(field(*second, "route"), "/hello");
  CAF_CHECK_EQUAL(body_of(*third)["params"][0][1].get<std::string>(), "3");
}

CAF_TEST(unknown route is a 404 JSON envelope and the connection stays usable) {
  start();
  auto c = connect();
  auto res = c.request(get("/nope?secret=1"));
  CAF_CHECK_EQUAL(res.result_int(), 404u);
  CAF_CHECK_EQUAL(field(res, "code"), "not-found");
  CAF_CHECK(body_of(res)["error"].is_string());
  CAF_CHECK_EQUAL(std::string(res[bhttp::field::content_type]), "application/json; charset=utf-8");
  CAF_CHECK(!std::string(res["X-Request-Id"]).empty());
  CAF_CHECK_EQUAL(c.request(get("/hello")).result_int(), 200u);
  CAF_CHECK_EQUAL(c.request(get("/hello/")).result_int(), 404u);  // trailing slash policy
  CAF_CHECK_EQUAL(c.request(get("/items/%zz")).result_int(), 400u);
}

CAF_TEST(wrong method is 405 with Allow) {
  start();
  auto c = connect();
  auto res = c.request(with_body("POST", "/hello", "{}"));
  CAF_CHECK_EQUAL(res.result_int(), 405u);
  CAF_CHECK_EQUAL(field(res, "code"), "method-not-allowed");
  CAF_CHECK_EQUAL(std::string(res[bhttp::field::allow]), "GET, HEAD");
}

CAF_TEST(HEAD answers the GET headers without a body) {
  start();
  auto c = connect();
  auto full = c.request(get("/fixed"));
  auto head = c.request("HEAD /fixed HTTP/1.1\r\nHost: test\r\n\r\n", true);
  CAF_CHECK_EQUAL(head.result_int(), 200u);
  CAF_CHECK(head.body().empty());
  CAF_CHECK_EQUAL(std::string(head[bhttp::field::content_length]), std::to_string(full.body().size()));
  // No stray body bytes: the connection still parses the next response.
  CAF_CHECK_EQUAL(c.request(get("/hello")).result_int(), 200u);
}

CAF_TEST(a body at the limit is accepted and one byte more is 413) {
  start();
  auto c = connect();
  std::string at_limit(opts.body_limit, 'x');
  auto ok = c.request(with_body("POST", "/echo", at_limit));
  CAF_CHECK_EQUAL(ok.result_int(), 200u);
  CAF_CHECK_EQUAL(body_of(ok)["body"].get<std::string>().size(), opts.body_limit);

  auto c2 = connect();
  auto res = c2.request(with_body("POST", "/echo", std::string(opts.body_limit + 1, 'x')));
  CAF_CHECK_EQUAL(res.result_int(), 413u);
  CAF_CHECK_EQUAL(field(res, "code"), "payload-too-large");
  CAF_CHECK(!res.keep_alive());
  CAF_CHECK(c2.closed_within(5000ms));

  // A chunked body that grows past the limit is refused the same way.
  auto c3 = connect();
  std::string chunk(opts.body_limit / 2 + 1, 'y');
  char size_hex[32];
  std::snprintf(size_hex, sizeof size_hex, "%zx", chunk.size());
  std::string chunked = "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 2; ++i)
    chunked += std::string(size_hex) + "\r\n" + chunk + "\r\n";
  chunked += "0\r\n\r\n";
  auto res3 = c3.request(chunked);
  CAF_CHECK_EQUAL(res3.result_int(), 413u);
  CAF_CHECK_EQUAL(handled.load(), 1);  // only the request at the limit reached a handler
}

CAF_TEST(a header block over the limit is 431) {
  start();
  auto c = connect();
  auto res = c.request(get("/hello", "X-Filler: " + std::string(opts.header_limit, 'h') + "\r\n"));
  CAF_CHECK_EQUAL(res.result_int(), 431u);
  CAF_CHECK_EQUAL(field(res, "code"), "headers-too-large");
  CAF_CHECK(c.closed_within(5000ms));
  // Just under the limit is fine.
  auto c2 = connect();
  auto ok = c2.request(get("/hello", "X-Filler: " + std::string(opts.header_limit - 200, 'h') + "\r\n"));
  CAF_CHECK_EQUAL(ok.result_int(), 200u);
}

CAF_TEST(a slowloris client is dropped while others are served) {
  opts.header_timeout = 1s;
  start();
  auto slow = connect();
  std::atomic<bool> slow_closed{false};
  std::atomic<int> bytes_sent{0};
  std::thread dribbler{[&] {
    std::string header = "GET /hello HTTP/1.1\r\nHost: test\r\nX-Slow: " + std::string(200, 'z');
    // One byte every 200 ms, for at most 10 s: it keeps sending, the deadline still holds.
    for (size_t i = 0; i < 50 && !slow_closed; ++i) {
      if (slow.send(std::string(1, header[i % header.size()]))) {
        slow_closed = true;
        break;
      }
      ++bytes_sent;
      if (slow.closed_within(200ms))
        slow_closed = true;
    }
  }};
  // Meanwhile a well-behaved client is served promptly, more than once.
  auto fast = connect();
  for (int i = 0; i < 4; ++i) {
    CAF_CHECK_EQUAL(fast.request(get("/hello")).result_int(), 200u);
    std::this_thread::sleep_for(100ms);
  }
  dribbler.join();
  CAF_CHECK(slow_closed.load());
  CAF_CHECK_LESS(bytes_sent.load(), 50);  // dropped well before it finished dribbling
  CAF_CHECK_EQUAL(fast.request(get("/hello")).result_int(), 200u);
}

CAF_TEST(an idle keep alive connection is closed after idle_timeout) {
  opts.idle_timeout = 1s;
  start();
  auto c = connect();
  CAF_CHECK_EQUAL(c.request(get("/hello")).result_int(), 200u);
  CAF_CHECK(!c.closed_within(200ms));  // not at once
  CAF_CHECK(c.closed_within(5000ms));
  // A connection that never sends anything is bounded by the header timeout.
}

CAF_TEST(a silent new connection is closed after header_timeout) {
  opts.header_timeout = 1s;
  start();
  auto c = connect();
  CAF_CHECK(c.closed_within(5000ms));
}

CAF_TEST(HTTP 1.0 and Connection close are honoured) {
  start();
  auto c = connect();
  auto res = c.request("GET /hello HTTP/1.0\r\n\r\n");
  CAF_CHECK_EQUAL(res.result_int(), 200u);
  CAF_CHECK_EQUAL(res.version(), 10u);
  CAF_CHECK(c.closed_within(5000ms));
  auto c2 = connect();
  auto res2 = c2.request(get("/hello", "Connection: close\r\n"));
  CAF_CHECK_EQUAL(res2.result_int(), 200u);
  CAF_CHECK(!res2.keep_alive());
  CAF_CHECK(c2.closed_within(5000ms));
  // HTTP/1.0 with keep-alive stays open.
  auto c3 = connect();
  auto res3 = c3.request("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  CAF_CHECK(res3.keep_alive());
  CAF_CHECK_EQUAL(c3.request("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").result_int(), 200u);
}

CAF_TEST(Expect 100 continue gets an interim response) {
  start();
  auto c = connect();
  std::string body = R"({"x":1})";
  CAF_REQUIRE(!c.send("POST /echo HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: "
                      + std::to_string(body.size()) + "\r\n\r\n"));
  auto interim = c.read();
  CAF_REQUIRE(interim.has_value());
  CAF_CHECK_EQUAL(interim->result_int(), 100u);
  CAF_REQUIRE(!c.send(body));
  auto res = c.read();
  CAF_REQUIRE(res.has_value());
  CAF_CHECK_EQUAL(field(*res, "body"), body);
}

CAF_TEST(a malformed request is 400 and closed) {
  start();
  auto c = connect();
  auto res = c.request("GET /hello HTTP/1.1\r\nBad Header\r\n\r\n");
  CAF_CHECK_EQUAL(res.result_int(), 400u);
  CAF_CHECK_EQUAL(field(res, "code"), "invalid-field");
  CAF_CHECK(c.closed_within(5000ms));
}

CAF_TEST(a dropped responder is 503 at once) {
  opts.handler_timeout = 60s;  // proves the 503 does not wait for the timeout
  start();
  auto c = connect();
  auto res = c.request(get("/drop"));
  CAF_CHECK_EQUAL(res.result_int(), 503u);
  CAF_CHECK_EQUAL(field(res, "code"), "unavailable");
  CAF_CHECK_EQUAL(c.request(get("/hello")).result_int(), 200u);
}

CAF_TEST(no answer within handler_timeout is 503 and a late answer is harmless) {
  opts.handler_timeout = 1s;
  start();
  auto c = connect();
  auto res = c.request(get("/hold"));
  CAF_CHECK_EQUAL(res.result_int(), 503u);
  CAF_CHECK_EQUAL(field(res, "code"), "unavailable");
  // The late answer for the first request must not become the second's answer.
  {
    std::lock_guard<std::mutex> guard{mutex};
    CAF_REQUIRE_EQUAL(held.size(), 1u);
    held[0](api_response::json(200, R"({"late":true})"));
  }
  auto next = c.request(get("/hello"));
  CAF_CHECK_EQUAL(field(next, "route"), "/hello");
}

CAF_TEST(a throwing handler is 500 without its message) {
  start();
  auto c = connect();
  auto res = c.request(get("/throw"));
  CAF_CHECK_EQUAL(res.result_int(), 500u);
  CAF_CHECK_EQUAL(field(res, "code"), "internal");
  CAF_CHECK(res.body().find("secret") == std::string::npos);
  CAF_CHECK_EQUAL(c.request(get("/hello")).result_int(), 200u);
}

CAF_TEST(nip98 routes answer 401 with WWW-Authenticate unless signed) {
  start();
  auto c = connect();
  auto none = c.request(get("/auth"));
  CAF_CHECK_EQUAL(none.result_int(), 401u);
  CAF_CHECK_EQUAL(std::string(none[bhttp::field::www_authenticate]), "Nostr");
  CAF_CHECK_EQUAL(field(none, "code"), "unauthorized");
  CAF_CHECK(!body_of(none)["error"].get<std::string>().empty());
  auto garbage = c.request(get("/auth", "Authorization: Nostr !!!not-base64!!!\r\n"));
  CAF_CHECK_EQUAL(garbage.result_int(), 401u);
  CAF_CHECK_EQUAL(std::string(garbage[bhttp::field::www_authenticate]), "Nostr");
  CAF_CHECK_EQUAL(handled.load(), 0);

  auto key = nostr::secret_key::generate();
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  // Signed for exactly this URL: public_url + target as sent.
  auto target = "/auth?x=1";
  auto token = nostr::nip98_authorization(key, srv->public_url() + target, "GET", "", now);
  auto ok = c.request(get(target, "Authorization: " + token + "\r\n"));
  CAF_CHECK_EQUAL(ok.result_int(), 200u);
  CAF_CHECK_EQUAL(field(ok, "pubkey"), key.pubkey_hex());
  // The same token on another URL is refused.
  auto other = c.request(get("/auth?x=2", "Authorization: " + token + "\r\n"));
  CAF_CHECK_EQUAL(other.result_int(), 401u);
  // A write with a payload tag.
  std::string body = R"({"a":1})";
  auto post_token = nostr::nip98_authorization(key, srv->public_url() + "/auth", "POST", body, now);
  auto posted = c.request(with_body("POST", "/auth", body, "Authorization: " + post_token + "\r\n"));
  CAF_CHECK_EQUAL(posted.result_int(), 200u);
  // Replayed: refused.
  auto replayed = c.request(with_body("POST", "/auth", body, "Authorization: " + post_token + "\r\n"));
  CAF_CHECK_EQUAL(replayed.result_int(), 401u);
}

CAF_TEST(public_url is the configured one without a trailing slash) {
  opts.public_url = "https://api.example.com/";
  start();
  CAF_CHECK_EQUAL(srv->public_url(), "https://api.example.com");
  auto key = nostr::secret_key::generate();
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto token = nostr::nip98_authorization(key, "https://api.example.com/auth", "GET", "", now);
  auto c = connect();
  CAF_CHECK_EQUAL(c.request(get("/auth", "Authorization: " + token + "\r\n")).result_int(), 200u);
}

CAF_TEST(on_complete reports method route and status) {
  start();
  auto c = connect();
  c.request(get("/items/7"));
  c.request(get("/nope"));
  c.request(with_body("POST", "/hello", "{}"));
  c.request("FROBNICATE /hello HTTP/1.1\r\nHost: test\r\n\r\n");  // any token is a method
  // The hook runs after the write completed, which may be just after the client read it.
  auto deadline = std::chrono::steady_clock::now() + op_deadline;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> guard{mutex};
      if (record_text.size() >= 4)
        break;
    }
    std::this_thread::sleep_for(1ms);
  }
  std::lock_guard<std::mutex> guard{mutex};
  CAF_REQUIRE_EQUAL(record_text.size(), 4u);
  CAF_CHECK_EQUAL(record_text[0], "GET /items/:id 200");
  CAF_CHECK_EQUAL(record_text[1], "GET - 404");
  CAF_CHECK_EQUAL(record_text[2], "POST /hello 405");
  CAF_CHECK_EQUAL(record_text[3], "OTHER /hello 405");  // label values stay bounded
}

CAF_TEST(start reports a port in use) {
  start();
  server_options again = opts;
  again.port = srv->port();
  server second{again, routes};
  auto err = second.start();
  CAF_REQUIRE(err.has_value());
  CAF_CHECK_EQUAL(*err, "cannot listen on 127.0.0.1:" + std::to_string(srv->port()) + ": Address already in use");
}

CAF_TEST(stop lets the in flight request finish and closes idle connections) {
  opts.shutdown_grace = 30s;
  start();
  auto idle = connect();
  CAF_CHECK_EQUAL(idle.request(get("/hello")).result_int(), 200u);
  auto busy = connect();
  CAF_REQUIRE(!busy.send(get("/later")));  // answered ~300 ms later from another thread
  CAF_REQUIRE(reached_handlers(1));
  auto port = srv->port();
  auto before = std::chrono::steady_clock::now();
  srv->stop();
  auto took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - before).count();
  CAF_CHECK_LESS(took_ms, 10000);  // done when the request was, not after the 30 s grace
  auto res = busy.read();
  CAF_REQUIRE(res.has_value());
  CAF_CHECK_EQUAL(res->result_int(), 200u);
  CAF_CHECK_EQUAL(res->body(), R"({"later":true})");
  CAF_CHECK(!res->keep_alive());
  CAF_CHECK(busy.closed_within(5000ms));
  CAF_CHECK(idle.closed_within(5000ms));
  bool refused = false;
  try {
    test_client late{port};
  } catch (const std::exception&) {
    refused = true;
  }
  CAF_CHECK(refused);
  srv->stop();  // idempotent
}

CAF_TEST(stop closes what is left after the grace period) {
  opts.shutdown_grace = 1s;
  opts.handler_timeout = 60s;
  start();
  auto c = connect();
  CAF_REQUIRE(!c.send(get("/hold")));
  CAF_REQUIRE(reached_handlers(1));
  srv->stop();
  CAF_CHECK(c.closed_within(5000ms));
}

CAF_TEST_FIXTURE_SCOPE_END()
