// The outbound HTTP client against real sockets on 127.0.0.1: a small scripted
// server in this file (blocking Beast, one thread per connection, counting
// connections and requests, able to drop, hang, half-answer or close) and, once,
// relayhost's own http::server as the counterpart. Checks are on behaviour
// (which error, how many connections, callbacks exactly once), never on tight
// durations; every wait has a generous deadline so a broken client fails a test
// instead of hanging it.
#undef CAF_SUITE  // the tests' precompiled header already set it to "unnamed"
#define CAF_SUITE http_client
#include <caf/test/unit_test.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

#include "http/client.hpp"
#include "http/server.hpp"

using namespace relayhost;
using namespace relayhost::http;
using namespace std::chrono_literals;

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using steady = std::chrono::steady_clock;

namespace {

// Generous: only a broken client ever waits this long.
constexpr auto callback_deadline = 15s;

// ---------------------------------------------------------------------------
// The scripted server.

struct seen_request {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  size_t connection = 0;           // 1-based, in accept order
  size_t index_on_connection = 0;  // 0-based

  size_t count(std::string_view name) const {
    size_t n = 0;
    for (auto& h : headers)
      n += beast::iequals(h.first, name) ? 1 : 0;
    return n;
  }
  std::string header(std::string_view name) const {
    for (auto& h : headers)
      if (beast::iequals(h.first, name))
        return h.second;
    return "<absent>";
  }
};

enum class server_action {
  reply,              // answer; keep the connection (keep-alive)
  reply_then_close,   // answer (no Connection: close), then close at once: an idle timeout
  drop,               // close without answering (the request was read)
  partial_then_close, // half a response, then close (FIN)
  partial_then_reset, // the start of a status line, then a reset (RST)
  hang,               // never answer (until the server stops)
};

struct server_reply {
  server_action action = server_action::reply;
  int status = 200;
  std::string body;
  bool connection_close = false;  // send Connection: close but keep serving: only the client can honour it
  bool chunked = false;
};

server_reply doing(server_action what) {
  server_reply r;
  r.action = what;
  return r;
}

json echo_of(const seen_request& r) {
  json headers = json::array();
  for (auto& h : r.headers)
    headers.push_back({h.first, h.second});
  return {{"method", r.method},         {"target", r.target}, {"host", r.header("host")},
          {"host_count", r.count("host")}, {"headers", headers}, {"body", r.body},
          {"connection", r.connection}};
}

server_reply echo(const seen_request& r) {
  return {server_action::reply, 200, echo_of(r).dump()};
}

class test_server {
public:
  using behaviour = std::function<server_reply(const seen_request&)>;

  explicit test_server(behaviour b = echo) : behaviour_(std::move(b)), acceptor_(ioc_) {
    tcp::endpoint ep{net::ip::make_address("127.0.0.1"), 0};
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~test_server() {
    {
      std::lock_guard<std::mutex> lock{mu_};
      stopping_ = true;
      for (int fd : open_fds_)
        ::shutdown(fd, SHUT_RDWR);  // wakes blocking reads
    }
    cv_.notify_all();
    accept_thread_.join();
    for (auto& t : conn_threads_)
      t.join();
  }

  uint16_t port() const { return port_; }
  size_t connections() const { return connections_.load(); }
  size_t requests() const {
    std::lock_guard<std::mutex> lock{mu_};
    return seen_.size();
  }
  std::vector<seen_request> seen() const {
    std::lock_guard<std::mutex> lock{mu_};
    return seen_;
  }
  bool wait_for_requests(size_t n, std::chrono::milliseconds limit = 10s) {
    std::unique_lock<std::mutex> lock{mu_};
    return cv_.wait_for(lock, limit, [&] { return seen_.size() >= n; });
  }

private:
  void accept_loop() {
    while (true) {
      {
        std::lock_guard<std::mutex> lock{mu_};
        if (stopping_)
          return;
      }
      pollfd p{acceptor_.native_handle(), POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0)
        continue;
      beast::error_code ec;
      tcp::socket sock{ioc_};
      acceptor_.accept(sock, ec);
      if (ec)
        continue;
      size_t index = ++connections_;
      std::lock_guard<std::mutex> lock{mu_};
      if (stopping_)
        ::shutdown(sock.native_handle(), SHUT_RDWR);  // accepted while the destructor ran
      open_fds_.insert(sock.native_handle());
      conn_threads_.emplace_back([this, s = std::move(sock), index]() mutable { serve(std::move(s), index); });
    }
  }

  void serve(tcp::socket sock, size_t conn_index) {
    beast::flat_buffer buffer;
    bool reset = false;
    for (size_t i = 0;; ++i) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(8 << 20);
      beast::error_code ec;
      bhttp::read(sock, buffer, parser, ec);
      if (ec)
        break;
      auto& msg = parser.get();
      seen_request r;
      r.method = std::string{msg.method_string()};
      r.target = std::string{msg.target()};
      for (auto& f : msg)
        r.headers.emplace_back(std::string{f.name_string()}, std::string{f.value()});
      r.body = msg.body();
      r.connection = conn_index;
      r.index_on_connection = i;
      {
        std::lock_guard<std::mutex> lock{mu_};
        seen_.push_back(r);
      }
      cv_.notify_all();
      auto reply = behaviour_(r);
      if (reply.action == server_action::drop)
        break;
      if (reply.action == server_action::hang) {
        std::unique_lock<std::mutex> lock{mu_};
        cv_.wait(lock, [&] { return stopping_; });
        break;
      }
      if (reply.action == server_action::partial_then_close) {
        net::write(sock, net::buffer(std::string{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc"}), ec);
        break;
      }
      if (reply.action == server_action::partial_then_reset) {
        net::write(sock, net::buffer(std::string{"HTTP/1.1 2"}), ec);
        std::this_thread::sleep_for(50ms);  // let the client read those bytes before the reset
        sock.set_option(net::socket_base::linger(true, 0), ec);
        reset = true;
        break;
      }
      std::string raw = "HTTP/1.1 " + std::to_string(reply.status) + " Scripted\r\nContent-Type: application/json\r\n";
      if (reply.connection_close)
        raw += "Connection: close\r\n";
      bool head = r.method == "HEAD";
      if (reply.chunked) {
        raw += "Transfer-Encoding: chunked\r\n\r\n";
        if (!head) {
          char size[32];
          std::snprintf(size, sizeof size, "%zx", reply.body.size());
          raw += std::string{size} + "\r\n" + reply.body + "\r\n0\r\n\r\n";
        }
      } else {
        raw += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n\r\n";
        if (!head)
          raw += reply.body;
      }
      net::write(sock, net::buffer(raw), ec);
      if (ec || reply.action == server_action::reply_then_close)
        break;
    }
    std::lock_guard<std::mutex> lock{mu_};
    open_fds_.erase(sock.native_handle());
    beast::error_code ignored;
    if (!reset)  // a shutdown would send a FIN before the reset
      sock.shutdown(tcp::socket::shutdown_both, ignored);
    sock.close(ignored);
  }

  behaviour behaviour_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<size_t> connections_{0};
  std::thread accept_thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::set<int> open_fds_;
  std::vector<std::thread> conn_threads_;
  std::vector<seen_request> seen_;
};

// ---------------------------------------------------------------------------
// Client-side helpers.

client_request make_request(uint16_t port, std::string method, std::string target, std::string body = {}) {
  client_request r;
  r.method = std::move(method);
  r.host = "127.0.0.1";
  r.port = port;
  r.host_header = "127.0.0.1:" + std::to_string(port);
  r.target = std::move(target);
  r.body = std::move(body);
  r.timeout = 5s;
  return r;
}

/// Callbacks delivered so far, by tag, with a count per tag (exactly-once checks).
class callback_log {
public:
  std::function<void(client_response)> callback_for(int tag) {
    return [this, tag](client_response r) {
      std::lock_guard<std::mutex> lock{mu_};
      ++calls_[tag];
      responses_[tag] = std::move(r);
      cv_.notify_all();
    };
  }
  bool wait_for(size_t distinct, std::chrono::milliseconds limit = callback_deadline) {
    std::unique_lock<std::mutex> lock{mu_};
    return cv_.wait_for(lock, limit, [&] { return calls_.size() >= distinct; });
  }
  size_t calls(int tag) const {
    std::lock_guard<std::mutex> lock{mu_};
    auto it = calls_.find(tag);
    return it == calls_.end() ? 0 : it->second;
  }
  size_t distinct() const {
    std::lock_guard<std::mutex> lock{mu_};
    return calls_.size();
  }
  client_response response(int tag) const {
    std::lock_guard<std::mutex> lock{mu_};
    auto it = responses_.find(tag);
    return it == responses_.end() ? client_response{} : it->second;
  }

private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, size_t> calls_;
  std::map<int, client_response> responses_;
};

/// One request, waited for; fails the test if no callback comes.
client_response call(client& c, client_request req) {
  auto log = std::make_shared<callback_log>();  // outlives a late callback
  c.send(std::move(req), [log, cb = log->callback_for(0)](client_response r) { cb(std::move(r)); });
  if (!log->wait_for(1))
    CAF_FAIL("no callback within the deadline");
  return log->response(0);
}

json echoed(const client_response& r) {
  return json::parse(r.body, nullptr, false);
}

std::string header_of(const json& echo, std::string_view name) {
  for (auto& h : echo["headers"])
    if (beast::iequals(h[0].get<std::string>(), name))
      return h[1].get<std::string>();
  return "<absent>";
}

std::string text(std::string_view v) {
  return std::string{v};
}

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

uint16_t closed_port() {
  net::io_context ioc;
  tcp::acceptor a{ioc, tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}};
  auto port = a.local_endpoint().port();
  a.close();
  return port;
}

/// Threads of this process named like the client's io threads ("rh-http-client").
size_t client_io_threads() {
  size_t n = 0;
  for (auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm{task.path() / "comm"};
    std::string name;
    std::getline(comm, name);
    n += name == "rh-http-client" ? 1 : 0;
  }
  return n;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit = callback_deadline) {
  auto until = steady::now() + limit;
  while (!done()) {
    if (steady::now() > until)
      return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

long long ms_since(steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t).count();
}

} // namespace

// ---------------------------------------------------------------------------

CAF_TEST(methods headers and bodies reach the server) {
  test_server srv;
  client c{client::options{}};

  auto post = make_request(srv.port(), "POST", "/relay/abc?x=1", R"({"host":"a.example"})");
  post.headers = {{"Authorization", "Nostr dG9rZW4="}, {"Content-Type", "application/json"}};
  auto res = call(c, post);
  CAF_REQUIRE(res.ok);
  CAF_CHECK_EQUAL(res.status, 200);
  auto e = echoed(res);
  auto method = e["method"].get<std::string>();
  auto target = e["target"].get<std::string>();
  auto body = e["body"].get<std::string>();
  auto auth = header_of(e, "authorization");
  auto type = header_of(e, "content-type");
  auto length = header_of(e, "content-length");
  auto agent = header_of(e, "user-agent");
  CAF_CHECK_EQUAL(method, "POST");
  CAF_CHECK_EQUAL(target, "/relay/abc?x=1");
  CAF_CHECK_EQUAL(body, R"({"host":"a.example"})");
  CAF_CHECK_EQUAL(auth, "Nostr dG9rZW4=");
  CAF_CHECK_EQUAL(type, "application/json");
  CAF_CHECK_EQUAL(length, "20");
  CAF_CHECK_EQUAL(agent, "relayhost/" RELAYHOST_VERSION);
  bool has_content_type = false;
  for (auto& [name, value] : res.headers)
    has_content_type |= beast::iequals(name, "content-type") && value == "application/json";
  CAF_CHECK(has_content_type);

  auto patch = call(c, make_request(srv.port(), "PATCH", "/relay/abc", R"({"inactive":true})"));
  CAF_REQUIRE(patch.ok);
  auto pe = echoed(patch);
  auto patch_method = pe["method"].get<std::string>();
  auto patch_body = pe["body"].get<std::string>();
  CAF_CHECK_EQUAL(patch_method, "PATCH");
  CAF_CHECK_EQUAL(patch_body, R"({"inactive":true})");

  // An empty PATCH/POST body still says Content-Length: 0; a GET says nothing.
  auto empty_patch = call(c, make_request(srv.port(), "PATCH", "/relay/abc"));
  CAF_REQUIRE(empty_patch.ok);
  auto ep = echoed(empty_patch);
  auto empty_length = header_of(ep, "content-length");
  CAF_CHECK_EQUAL(empty_length, "0");
  auto get = call(c, make_request(srv.port(), "GET", "/x"));
  CAF_REQUIRE(get.ok);
  auto ge = echoed(get);
  auto get_length = header_of(ge, "content-length");
  auto get_method = ge["method"].get<std::string>();
  CAF_CHECK_EQUAL(get_length, "<absent>");
  CAF_CHECK_EQUAL(get_method, "GET");

  auto del = call(c, make_request(srv.port(), "DELETE", "/relay/abc"));
  CAF_REQUIRE(del.ok);
  auto del_method = echoed(del)["method"].get<std::string>();
  CAF_CHECK_EQUAL(del_method, "DELETE");
}

CAF_TEST(an error status is a response not a transport error) {
  test_server srv{[](const seen_request&) {
    return server_reply{server_action::reply, 409, R"({"error":"relay with this id already exists"})"};
  }};
  client c{client::options{}};
  auto res = call(c, make_request(srv.port(), "POST", "/relay/abc", "{}"));
  CAF_CHECK(res.ok);
  CAF_CHECK(!res.transport_error());
  CAF_CHECK_EQUAL(res.status, 409);
  CAF_CHECK_EQUAL(res.body, R"({"error":"relay with this id already exists"})");
  CAF_CHECK_EQUAL(res.error, "");
}

CAF_TEST(host header is sent verbatim) {
  test_server srv;
  client c{client::options{}};
  for (std::string host : {"127.0.0.1:8032", "zooid.internal:9000"}) {
    auto req = make_request(srv.port(), "POST", "/relay/abc", "{}");
    req.host_header = host;
    auto res = call(c, req);
    CAF_REQUIRE(res.ok);
    auto e = echoed(res);
    auto sent = e["host"].get<std::string>();
    auto count = e["host_count"].get<size_t>();
    CAF_CHECK_EQUAL(sent, host);
    CAF_CHECK_EQUAL(count, 1u);
  }
  // Without one: host:port.
  auto req = make_request(srv.port(), "GET", "/");
  req.host_header.clear();
  auto res = call(c, req);
  CAF_REQUIRE(res.ok);
  auto sent = echoed(res)["host"].get<std::string>();
  CAF_CHECK_EQUAL(sent, "127.0.0.1:" + std::to_string(srv.port()));
}

CAF_TEST(host names are resolved) {
  test_server srv;
  client c{client::options{}};
  auto req = make_request(srv.port(), "GET", "/");
  req.host = "localhost";  // may resolve to ::1 first: that one is refused, 127.0.0.1 answers
  auto res = call(c, req);
  CAF_CHECK(res.ok);
  CAF_CHECK_EQUAL(res.status, 200);

  auto bad = make_request(srv.port(), "GET", "/");
  bad.host = "relayhost-test.invalid";  // RFC 6761: never resolves
  auto failed = call(c, bad);
  CAF_CHECK(!failed.ok);
  CAF_CHECK(starts_with(failed.error, client_error::resolve_failed));
  CAF_MESSAGE("resolve error: " << failed.error);
}

CAF_TEST(HEAD responses have no body to wait for) {
  test_server srv;
  client c{client::options{}};
  auto head = call(c, make_request(srv.port(), "HEAD", "/"));
  CAF_REQUIRE(head.ok);
  CAF_CHECK_EQUAL(head.status, 200);
  CAF_CHECK_EQUAL(head.body, "");
  auto get = call(c, make_request(srv.port(), "GET", "/"));  // same connection, still in sync
  CAF_CHECK(get.ok);
  CAF_CHECK_EQUAL(srv.connections(), 1u);
}

CAF_TEST(keep alive reuses one connection) {
  test_server srv;
  client c{client::options{}};
  for (int i = 0; i < 5; ++i) {
    auto res = call(c, make_request(srv.port(), "POST", "/n/" + std::to_string(i), "{}"));
    CAF_CHECK(res.ok);
  }
  CAF_CHECK_EQUAL(srv.connections(), 1u);
  CAF_CHECK_EQUAL(srv.requests(), 5u);
  CAF_CHECK_EQUAL(c.idle_connections(), 1u);
  auto seen = srv.seen();
  for (size_t i = 0; i < seen.size(); ++i)
    CAF_CHECK_EQUAL(seen[i].index_on_connection, i);
}

CAF_TEST(a pooled connection the server closed is replaced) {
  test_server srv{[](const seen_request& r) {
    auto reply = echo(r);
    reply.action = server_action::reply_then_close;  // as an idle timeout would
    return reply;
  }};
  client c{client::options{}};
  auto first = call(c, make_request(srv.port(), "POST", "/relay/a", "{}"));
  CAF_REQUIRE(first.ok);
  std::this_thread::sleep_for(200ms);  // the server's FIN arrives while the connection is idle
  auto second = call(c, make_request(srv.port(), "POST", "/relay/b", "{}"));
  CAF_CHECK(second.ok);
  CAF_CHECK_EQUAL(second.status, 200);
  CAF_CHECK_EQUAL(srv.connections(), 2u);
}

CAF_TEST(a request crossing the server closing a pooled connection is retried once) {
  // The server reads the second request on the first connection and closes
  // without a byte of answer: the race of an idle timeout with our write.
  test_server srv{[](const seen_request& r) {
    if (r.connection == 1 && r.index_on_connection == 1)
      return doing(server_action::drop);
    return echo(r);
  }};
  client c{client::options{}};
  auto first = call(c, make_request(srv.port(), "PATCH", "/relay/a", "{}"));
  CAF_REQUIRE(first.ok);
  auto second = call(c, make_request(srv.port(), "PATCH", "/relay/a", R"({"x":1})"));
  CAF_REQUIRE(second.ok);
  CAF_CHECK_EQUAL(second.status, 200);
  auto conn = echoed(second)["connection"].get<size_t>();
  CAF_CHECK_EQUAL(conn, 2u);
  CAF_CHECK_EQUAL(srv.connections(), 2u);
  CAF_CHECK_EQUAL(srv.requests(), 3u);
}

CAF_TEST(a fresh connection that fails is not retried) {
  test_server srv{[](const seen_request&) { return doing(server_action::drop); }};
  client c{client::options{}};
  auto res = call(c, make_request(srv.port(), "POST", "/relay/a", "{}"));
  CAF_CHECK(!res.ok);
  CAF_CHECK_EQUAL(res.error, text(client_error::connection_closed));
  std::this_thread::sleep_for(100ms);  // a wrong retry would show up by now
  CAF_CHECK_EQUAL(srv.requests(), 1u);
  CAF_CHECK_EQUAL(srv.connections(), 1u);
}

CAF_TEST(no retry once response bytes arrived) {
  // On a reused connection, the connection then goes away exactly as in the
  // retry case (a reset) — but the server had started answering.
  test_server srv{[](const seen_request& r) {
    if (r.index_on_connection == 1)
      return doing(server_action::partial_then_reset);
    return echo(r);
  }};
  client c{client::options{}};
  auto first = call(c, make_request(srv.port(), "POST", "/relay/a", "{}"));
  CAF_REQUIRE(first.ok);
  auto second = call(c, make_request(srv.port(), "POST", "/relay/b", "{}"));
  CAF_CHECK(!second.ok);
  CAF_CHECK_EQUAL(second.error, text(client_error::connection_reset));
  std::this_thread::sleep_for(100ms);
  CAF_CHECK_EQUAL(srv.requests(), 2u);
  CAF_CHECK_EQUAL(srv.connections(), 1u);
}

CAF_TEST(a response cut short is an error) {
  test_server srv{[](const seen_request&) { return doing(server_action::partial_then_close); }};
  client c{client::options{}};
  auto res = call(c, make_request(srv.port(), "GET", "/"));
  CAF_CHECK(!res.ok);
  CAF_CHECK_EQUAL(res.error, text(client_error::connection_closed));
  CAF_CHECK_EQUAL(srv.requests(), 1u);
}

CAF_TEST(a malformed response is an error) {
  test_server srv{[](const seen_request& r) {
    auto reply = echo(r);
    reply.status = 42;  // not a three-digit status
    return reply;
  }};
  client c{client::options{}};
  auto res = call(c, make_request(srv.port(), "GET", "/"));
  CAF_CHECK(!res.ok);
  CAF_CHECK_EQUAL(res.error, text(client_error::malformed_response));
}

CAF_TEST(connection close from the server is honoured) {
  test_server srv{[](const seen_request& r) {
    auto reply = echo(r);
    reply.connection_close = true;  // the server would even serve another request on it
    return reply;
  }};
  client c{client::options{}};
  for (int i = 0; i < 3; ++i) {
    auto res = call(c, make_request(srv.port(), "GET", "/"));
    CAF_CHECK(res.ok);
  }
  CAF_CHECK_EQUAL(srv.connections(), 3u);
  CAF_CHECK_EQUAL(c.idle_connections(), 0u);
}

CAF_TEST(connection refused fails fast) {
  client c{client::options{}};
  auto start = steady::now();
  auto res = call(c, make_request(closed_port(), "POST", "/relay/a", "{}"));
  auto took = ms_since(start);
  CAF_CHECK(!res.ok);
  CAF_CHECK(res.transport_error());
  CAF_CHECK_EQUAL(res.error, text(client_error::connection_refused));
  CAF_CHECK_LESS(took, 4000);  // well before the 5 s timeout
}

CAF_TEST(a server that never answers times out) {
  test_server srv{[](const seen_request&) { return doing(server_action::hang); }};
  client c{client::options{}};
  auto req = make_request(srv.port(), "POST", "/relay/a", "{}");
  req.timeout = 300ms;
  auto start = steady::now();
  auto res = call(c, req);
  auto took = ms_since(start);
  CAF_CHECK(!res.ok);
  CAF_CHECK_EQUAL(res.error, text(client_error::timeout));
  CAF_CHECK_GREATER_OR_EQUAL(took, 290);
  CAF_CHECK_LESS(took, 5000);
  CAF_CHECK_EQUAL(srv.requests(), 1u);  // it was sent, and not sent again
}

CAF_TEST(a listener that never accepts times out) {
  // The kernel completes the handshake from the backlog; nothing ever reads.
  net::io_context ioc;
  tcp::acceptor mute{ioc, tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}};
  client c{client::options{}};
  auto req = make_request(mute.local_endpoint().port(), "GET", "/");
  req.timeout = 300ms;
  auto res = call(c, req);
  CAF_CHECK(!res.ok);
  CAF_CHECK_EQUAL(res.error, text(client_error::timeout));
}

CAF_TEST(response body limit) {
  test_server srv{[](const seen_request& r) {
    server_reply reply;
    if (r.target == "/exact")
      reply.body = std::string(1000, 'a');
    else if (r.target == "/over")
      reply.body = std::string(1001, 'a');
    else if (r.target == "/chunked-over") {
      reply.body = std::string(2000, 'a');
      reply.chunked = true;
    } else if (r.target == "/mebibyte-plus-one")
      reply.body = std::string((1 << 20) + 1, 'a');
    return reply;
  }};
  client::options small;
  small.max_response_body = 1000;
  client c{small};
  auto exact = call(c, make_request(srv.port(), "GET", "/exact"));
  CAF_CHECK(exact.ok);
  CAF_CHECK_EQUAL(exact.body.size(), 1000u);
  auto over = call(c, make_request(srv.port(), "GET", "/over"));
  CAF_CHECK(!over.ok);
  CAF_CHECK_EQUAL(over.error, text(client_error::response_too_large));
  auto chunked = call(c, make_request(srv.port(), "GET", "/chunked-over"));
  CAF_CHECK(!chunked.ok);
  CAF_CHECK_EQUAL(chunked.error, text(client_error::response_too_large));

  client defaults{client::options{}};  // 1 MiB
  auto big = call(defaults, make_request(srv.port(), "GET", "/mebibyte-plus-one"));
  CAF_CHECK(!big.ok);
  CAF_CHECK_EQUAL(big.error, text(client_error::response_too_large));
}

CAF_TEST(invalid requests are refused before anything is sent) {
  test_server srv;
  client c{client::options{}};
  auto injected = make_request(srv.port(), "POST", "/relay/a", "{}");
  injected.headers = {{"Authorization", "Nostr x\r\nX-Evil: 1"}};
  auto host_dup = make_request(srv.port(), "POST", "/relay/a", "{}");
  host_dup.headers = {{"Host", "elsewhere"}};
  auto bad_target = make_request(srv.port(), "GET", "relay/a");
  auto bad_method = make_request(srv.port(), "GE T", "/");
  for (auto& req : {injected, host_dup, bad_target, bad_method}) {
    auto res = call(c, req);
    CAF_CHECK(!res.ok);
    CAF_CHECK(starts_with(res.error, client_error::invalid_request));
    CAF_CHECK(res.error.find("Nostr") == std::string::npos);  // never quotes a value
  }
  CAF_CHECK_EQUAL(srv.connections(), 0u);
}

CAF_TEST(a hundred concurrent requests complete exactly once) {
  test_server srv;
  client::options opts;
  opts.io_threads = 2;
  callback_log log;  // before the client: outlives its callbacks
  client c{opts};
  constexpr int total = 100;
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t)
    senders.emplace_back([&, t] {
      for (int i = t; i < total; i += 4)
        c.send(make_request(srv.port(), "POST", "/n/" + std::to_string(i), std::to_string(i)), log.callback_for(i));
    });
  for (auto& s : senders)
    s.join();
  CAF_REQUIRE(log.wait_for(total));
  std::this_thread::sleep_for(100ms);  // a second call would show up by now
  int exactly_once = 0;
  int echoed_right = 0;
  for (int i = 0; i < total; ++i) {
    exactly_once += log.calls(i) == 1 ? 1 : 0;
    auto res = log.response(i);
    if (res.ok && res.status == 200) {
      auto e = echoed(res);
      echoed_right += e["target"] == "/n/" + std::to_string(i) && e["body"] == std::to_string(i) ? 1 : 0;
    }
  }
  CAF_CHECK_EQUAL(exactly_once, total);
  CAF_CHECK_EQUAL(echoed_right, total);
  CAF_CHECK_EQUAL(srv.requests(), static_cast<size_t>(total));
  CAF_CHECK_LESS_OR_EQUAL(c.idle_connections(), opts.max_idle_per_endpoint);
}

CAF_TEST(the pool is bounded) {
  // Hold every answer until five requests are in, so five connections exist.
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  test_server srv{[&](const seen_request& r) {
    std::unique_lock<std::mutex> lock{mu};
    ++arrived;
    cv.notify_all();
    cv.wait_for(lock, 10s, [&] { return arrived >= 5; });
    return echo(r);
  }};
  client::options opts;
  opts.max_idle_per_endpoint = 2;
  callback_log log;
  client c{opts};
  for (int i = 0; i < 5; ++i)
    c.send(make_request(srv.port(), "GET", "/"), log.callback_for(i));
  CAF_REQUIRE(log.wait_for(5));
  CAF_CHECK_EQUAL(srv.connections(), 5u);
  CAF_CHECK_EQUAL(c.idle_connections(), 2u);
}

CAF_TEST(idle connections expire) {
  test_server srv;
  client::options opts;
  opts.idle_keepalive = 1s;
  client c{opts};
  auto first = call(c, make_request(srv.port(), "GET", "/"));
  CAF_REQUIRE(first.ok);
  CAF_CHECK_EQUAL(c.idle_connections(), 1u);
  // The sweep closes it between 1 and 1.5 s after its last use.
  CAF_CHECK(wait_until([&] { return c.idle_connections() == 0; }, 5s));
  auto second = call(c, make_request(srv.port(), "GET", "/"));
  CAF_CHECK(second.ok);
  CAF_CHECK_EQUAL(srv.connections(), 2u);
}

CAF_TEST(stop cancels requests in flight) {
  test_server srv{[](const seen_request&) { return doing(server_action::hang); }};
  auto refused_port = closed_port();
  client::options opts;
  opts.io_threads = 2;
  callback_log log;
  client c{opts};
  auto hanging = [&](int tag) {
    auto req = make_request(srv.port(), "POST", "/relay/" + std::to_string(tag), "{}");
    req.timeout = 30s;
    c.send(std::move(req), log.callback_for(tag));
  };
  for (int i = 0; i < 10; ++i)
    hanging(i);
  CAF_REQUIRE(srv.wait_for_requests(10));  // all ten are waiting for an answer
  for (int i = 10; i < 20; ++i)           // and ten more, wherever they are
    hanging(i);
  auto start = steady::now();
  c.stop();
  auto took = ms_since(start);
  CAF_CHECK_LESS(took, 5000);  // not the requests' 30 s
  // stop() joined the io threads: every callback has run, exactly once.
  int stopped = 0;
  for (int i = 0; i < 20; ++i) {
    auto res = log.response(i);
    stopped += log.calls(i) == 1 && !res.ok && res.error == client_error::stopped ? 1 : 0;
  }
  CAF_CHECK_EQUAL(stopped, 20);
  CAF_CHECK_EQUAL(c.idle_connections(), 0u);
  CAF_CHECK_EQUAL(client_io_threads(), 0u);  // joined

  // After stop(): at once, on the caller's thread.
  c.send(make_request(refused_port, "GET", "/"), log.callback_for(100));
  CAF_CHECK_EQUAL(log.calls(100), 1u);
  auto late = log.response(100);
  CAF_CHECK_EQUAL(late.error, text(client_error::stopped));
  c.stop();  // idempotent
}

CAF_TEST(stop inside a callback does not deadlock) {
  for (size_t threads : {1u, 2u}) {
    test_server srv{[](const seen_request& r) {
      if (r.target == "/hang")
        return doing(server_action::hang);
      return echo(r);
    }};
    client::options opts;
    opts.io_threads = threads;
    callback_log log;
    auto c = std::make_unique<client>(opts);
    for (int i = 0; i < 3; ++i) {
      auto req = make_request(srv.port(), "GET", "/hang");
      req.timeout = 30s;
      c->send(std::move(req), log.callback_for(i));
    }
    CAF_REQUIRE(srv.wait_for_requests(3));
    std::atomic<bool> stop_returned{false};
    client* raw = c.get();
    auto stopper = log.callback_for(3);
    c->send(make_request(srv.port(), "GET", "/ok"), [&, raw, stopper](client_response r) {
      raw->stop();
      stop_returned = true;
      stopper(std::move(r));
    });
    CAF_REQUIRE(log.wait_for(4));
    CAF_CHECK(stop_returned.load());
    auto ok = log.response(3);
    CAF_CHECK(ok.ok);
    for (int i = 0; i < 3; ++i) {
      auto res = log.response(i);
      CAF_CHECK_EQUAL(res.error, text(client_error::stopped));
      CAF_CHECK_EQUAL(log.calls(i), 1u);
    }
    c.reset();  // joins the threads
    CAF_CHECK_EQUAL(client_io_threads(), 0u);
  }
}

CAF_TEST(a client destroyed inside its own callback) {
  test_server srv{[](const seen_request& r) {
    if (r.target == "/hang")
      return doing(server_action::hang);
    return echo(r);
  }};
  callback_log log;
  auto c = std::make_unique<client>(client::options{});
  auto req = make_request(srv.port(), "GET", "/hang");
  req.timeout = 30s;
  c->send(std::move(req), log.callback_for(0));
  CAF_REQUIRE(srv.wait_for_requests(1));
  auto last = log.callback_for(1);
  std::promise<void> destroyed;
  c->send(make_request(srv.port(), "GET", "/ok"), [&c, &destroyed, last](client_response r) {
    last(std::move(r));
    c.reset();  // ~client on its own io thread
    destroyed.set_value();
  });
  auto f = destroyed.get_future();
  CAF_REQUIRE(f.wait_for(callback_deadline) == std::future_status::ready);
  CAF_REQUIRE(log.wait_for(2));
  auto hung = log.response(0);
  CAF_CHECK_EQUAL(hung.error, text(client_error::stopped));
  CAF_CHECK_EQUAL(log.calls(0), 1u);
  // The detached io thread finishes on its own (and must, before the process exits).
  CAF_CHECK(wait_until([] { return client_io_threads() == 0; }));
}

CAF_TEST(relayhost http server as the counterpart) {
  auto routes = std::make_shared<router>();
  routes->add("POST", "/relay/:id", auth_mode::none, [](api_request&& req, responder reply) {
    reply(api_response::json(201, json{{"id", req.param("id")}, {"body", req.body}}.dump()));
  });
  routes->add("PATCH", "/relay/:id", auth_mode::none, [](api_request&& req, responder reply) {
    reply(api_response::json(200, json{{"id", req.param("id")}, {"body", req.body}}.dump()));
  });
  server_options opts;
  opts.host = "127.0.0.1";
  opts.port = 0;
  opts.io_threads = 1;
  server srv{opts, routes};
  auto err = srv.start();
  CAF_REQUIRE(!err);
  client c{client::options{}};
  auto created = call(c, make_request(srv.port(), "POST", "/relay/r1", R"({"a":1})"));
  CAF_REQUIRE(created.ok);
  CAF_CHECK_EQUAL(created.status, 201);
  auto body = json::parse(created.body)["body"].get<std::string>();
  CAF_CHECK_EQUAL(body, R"({"a":1})");
  auto patched = call(c, make_request(srv.port(), "PATCH", "/relay/r1"));  // empty body
  CAF_REQUIRE(patched.ok);
  CAF_CHECK_EQUAL(patched.status, 200);
  auto missing = call(c, make_request(srv.port(), "DELETE", "/nowhere"));
  CAF_CHECK(missing.ok);
  CAF_CHECK_EQUAL(missing.status, 404);
  CAF_CHECK_EQUAL(c.idle_connections(), 1u);  // one kept-alive connection served all three
  c.stop();
  srv.stop();
}
