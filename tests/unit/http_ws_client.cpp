// The outbound websocket client against real sockets on 127.0.0.1: a scripted
// server in this file (blocking Beast, one thread per connection) that can echo,
// push messages, send a frame over the limit, drop mid-frame, refuse the upgrade,
// never answer, or speak TLS with a certificate made here. Checks are on
// behaviour (which reason, how many messages, on_close exactly once), never on
// tight durations; every wait has a generous deadline so a broken client fails a
// test instead of hanging it.
#undef CAF_SUITE  // the tests' precompiled header already set it to "unnamed"
#define CAF_SUITE http_ws_client
#include <caf/test/unit_test.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "http/ws_client.hpp"

using namespace relayhost::http;
using namespace std::chrono_literals;

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

constexpr auto deadline = 15s;  // only a broken client waits this long

// ---------------------------------------------------------------------------
// A self-signed certificate for 127.0.0.1 (IP SAN only), made with OpenSSL here.

struct test_cert {
  std::string cert_pem, key_pem;
  std::string ca_file;  // the certificate written to a file, for options::ca_file
};

std::string pem_of(const std::function<int(BIO*)>& write) {
  BIO* bio = BIO_new(BIO_s_mem());
  write(bio);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

const test_cert& cert() {
  static const test_cert c = [] {
    test_cert t;
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600 * 24);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("relayhost test"),
                               -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                              std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      X509_add_ext(x, ext, -1);
      X509_EXTENSION_free(ext);
    }
    X509_sign(x, key, EVP_sha256());
    t.cert_pem = pem_of([&](BIO* b) { return PEM_write_bio_X509(b, x); });
    t.key_pem = pem_of([&](BIO* b) { return PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); });
    X509_free(x);
    EVP_PKEY_free(key);
    auto path = std::filesystem::temp_directory_path() / ("rh-ws-test-ca-" + std::to_string(::getpid()) + ".pem");
    FILE* f = std::fopen(path.c_str(), "w");
    std::fwrite(t.cert_pem.data(), 1, t.cert_pem.size(), f);
    std::fclose(f);
    t.ca_file = path.string();
    return t;
  }();
  return c;
}

// ---------------------------------------------------------------------------
// The scripted server: each accepted socket is handed to `script` on its own thread.

class ws_server {
public:
  using script = std::function<void(tcp::socket&)>;

  explicit ws_server(script s) : script_(std::move(s)), acceptor_(ioc_) {
    tcp::endpoint ep{net::ip::make_address("127.0.0.1"), 0};
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~ws_server() {
    stopping_ = true;
    {
      std::lock_guard<std::mutex> g(mu_);
      for (auto* s : sockets_) {
        beast::error_code ec;
        s->shutdown(tcp::socket::shutdown_both, ec);  // wakes blocking reads
      }
    }
    accept_thread_.join();
    for (auto& t : threads_)
      t.join();
  }

  uint16_t port() const { return port_; }
  size_t accepted() const { return accepted_.load(); }
  bool stopping() const { return stopping_.load(); }

private:
  void accept_loop() {
    while (!stopping_) {
      pollfd p{acceptor_.native_handle(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0)
        continue;
      auto sock = std::make_shared<tcp::socket>(ioc_);
      beast::error_code ec;
      acceptor_.accept(*sock, ec);
      if (ec)
        continue;
      ++accepted_;
      std::lock_guard<std::mutex> g(mu_);
      sockets_.push_back(sock.get());
      threads_.emplace_back([this, sock] {
        try {
          script_(*sock);
        } catch (const std::exception&) {
          // the client went away: what a script does next is irrelevant
        }
        std::lock_guard<std::mutex> g2(mu_);
        beast::error_code ignored;
        sock->close(ignored);
        sockets_.erase(std::find(sockets_.begin(), sockets_.end(), sock.get()));
      });
    }
  }

  script script_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread accept_thread_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::vector<tcp::socket*> sockets_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> accepted_{0};
};

/// Waits on a blocking stream until the server stops (the test's end) or the peer goes.
void hold_until_stopped(const ws_server* srv) {
  while (!srv->stopping())
    std::this_thread::sleep_for(20ms);
}

// Scripts ------------------------------------------------------------------

/// Upgrades and echoes every message until the peer closes.
void echo(tcp::socket& s) {
  websocket::stream<tcp::socket&> ws{s};
  ws.accept();
  for (;;) {
    beast::flat_buffer b;
    ws.read(b);
    ws.text(ws.got_text());
    ws.write(b.data());
  }
}

/// Upgrades, sends `n` messages at once, then echoes.
ws_server::script push(int n) {
  return [n](tcp::socket& s) {
    websocket::stream<tcp::socket&> ws{s};
    ws.accept();
    for (int i = 0; i < n; ++i)
      ws.write(net::buffer("m" + std::to_string(i)));
    for (;;) {
      beast::flat_buffer b;
      ws.read(b);
      ws.write(b.data());
    }
  };
}

/// Answers the upgrade with this HTTP status.
ws_server::script refuse(int status) {
  return [status](tcp::socket& s) {
    beast::flat_buffer b;
    char buf[4096];
    s.read_some(net::buffer(buf));
    auto text = "HTTP/1.1 " + std::to_string(status) + " Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    net::write(s, net::buffer(text));
  };
}

// ---------------------------------------------------------------------------
// What the client reported.

struct recorder {
  std::mutex mu;
  std::condition_variable cv;
  bool opened = false;
  std::vector<std::string> messages;
  std::vector<std::string> closes;  // exactly one, once it ended
  std::shared_ptr<ws_connection> conn;
  bool auto_ack = true;
  bool ack_owed = false;  // a message came before open() stored conn: open() acks it

  ws_handlers handlers() {
    ws_handlers h;
    h.on_open = [this] {
      std::lock_guard<std::mutex> g(mu);
      opened = true;
      cv.notify_all();
    };
    h.on_message = [this](std::string m) {
      std::shared_ptr<ws_connection> c;
      {
        std::lock_guard<std::mutex> g(mu);
        messages.push_back(std::move(m));
        c = conn;
        if (auto_ack && !c)
          ack_owed = true;
        cv.notify_all();
      }
      if (auto_ack && c)
        c->ack();
    };
    h.on_close = [this](std::string why) {
      std::lock_guard<std::mutex> g(mu);
      closes.push_back(std::move(why));
      cv.notify_all();
    };
    return h;
  }

  template <class Pred>
  bool wait(Pred p, std::chrono::milliseconds limit = deadline) {
    std::unique_lock<std::mutex> g(mu);
    return cv.wait_for(g, limit, [&] { return p(*this); });
  }
  bool wait_closed() { return wait([](recorder& r) { return !r.closes.empty(); }); }
  std::string reason() {
    std::lock_guard<std::mutex> g(mu);
    return closes.empty() ? "<open>" : closes.front();
  }
  size_t message_count() {
    std::lock_guard<std::mutex> g(mu);
    return messages.size();
  }
  size_t close_count() {
    std::lock_guard<std::mutex> g(mu);
    return closes.size();
  }
};

ws_target plain(uint16_t port, std::string host = "127.0.0.1") {
  ws_target t;
  t.host = std::move(host);
  t.port = port;
  t.target = "/";
  t.url = "ws://" + t.host + ":" + std::to_string(port);
  return t;
}

ws_target secure(uint16_t port, std::string host = "127.0.0.1") {
  auto t = plain(port, std::move(host));
  t.tls = true;
  t.url = "wss://" + t.host + ":" + std::to_string(port);
  return t;
}

std::shared_ptr<ws_connection> open(ws_client& c, const ws_target& t, recorder& r) {
  auto conn = c.connect(t, r.handlers());
  bool owed;
  {
    std::lock_guard<std::mutex> g(r.mu);
    r.conn = conn;
    owed = std::exchange(r.ack_owed, false);
  }
  if (owed)
    conn->ack();
  return conn;
}

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

ws_client::options quick() {
  ws_client::options o;
  o.connect_timeout = 2000ms;
  return o;
}

} // namespace

CAF_TEST(messages go both ways in order and a clean close is reported once) {
  ws_server srv{echo};
  ws_client client{quick()};
  recorder r;
  auto conn = open(client, plain(srv.port()), r);
  for (int i = 0; i < 20; ++i)
    conn->send("hello " + std::to_string(i));  // queued before the handshake is done
  CAF_REQUIRE(r.wait([](recorder& x) { return x.messages.size() == 20; }));
  CAF_CHECK(r.opened);
  for (int i = 0; i < 20; ++i) {
    auto want = "hello " + std::to_string(i);
    auto got = r.messages[static_cast<size_t>(i)];
    CAF_CHECK_EQUAL(got, want);
  }
  CAF_CHECK_EQUAL(client.open_connections(), 1u);
  conn->close();
  CAF_REQUIRE(r.wait_closed());
  CAF_CHECK_EQUAL(r.reason(), std::string(ws_error::closed));
  conn->send("after close");  // dropped, no crash, no second on_close
  conn->close();
  std::this_thread::sleep_for(100ms);
  CAF_CHECK_EQUAL(r.close_count(), 1u);
  CAF_CHECK_EQUAL(client.open_connections(), 0u);
}

CAF_TEST(the next message is read only after ack) {
  ws_server srv{push(3)};
  ws_client client{quick()};
  recorder r;
  r.auto_ack = false;
  auto conn = open(client, plain(srv.port()), r);
  CAF_REQUIRE(r.wait([](recorder& x) { return x.messages.size() == 1; }));
  std::this_thread::sleep_for(300ms);  // the other two are on the socket already
  CAF_CHECK_EQUAL(r.message_count(), 1u);
  conn->ack();
  CAF_REQUIRE(r.wait([](recorder& x) { return x.messages.size() == 2; }));
  conn->ack();
  CAF_REQUIRE(r.wait([](recorder& x) { return x.messages.size() == 3; }));
  auto last = r.messages.back();
  CAF_CHECK_EQUAL(last, "m2");
  conn->close();
  CAF_CHECK(r.wait_closed());
}

CAF_TEST(a message over the limit closes the connection) {
  ws_server srv{[](tcp::socket& s) {
    websocket::stream<tcp::socket&> ws{s};
    ws.accept();
    ws.write(net::buffer(std::string(1000, 'x')));
    ws.write(net::buffer(std::string(5000, 'y')));
    beast::flat_buffer b;
    ws.read(b);
  }};
  auto o = quick();
  o.max_message_bytes = 4096;
  ws_client client{o};
  recorder r;
  open(client, plain(srv.port()), r);
  CAF_REQUIRE(r.wait_closed());
  CAF_CHECK_EQUAL(r.reason(), std::string(ws_error::too_large));
  CAF_CHECK_EQUAL(r.message_count(), 1u);  // the one under the limit
}

CAF_TEST(the peer closing is closed by peer and a drop mid frame is an error) {
  {
    ws_server srv{[](tcp::socket& s) {
      websocket::stream<tcp::socket&> ws{s};
      ws.accept();
      ws.close(websocket::close_code::going_away);
    }};
    ws_client client{quick()};
    recorder r;
    open(client, plain(srv.port()), r);
    CAF_REQUIRE(r.wait_closed());
    CAF_CHECK_EQUAL(r.reason(), std::string(ws_error::closed_by_peer));
  }
  {
    ws_server srv{[](tcp::socket& s) {
      websocket::stream<tcp::socket&> ws{s};
      ws.accept();
      // A text frame header announcing 100 bytes, then 10 of them, then FIN.
      std::string frame = "\x81\x64" + std::string(10, 'a');
      net::write(s, net::buffer(frame));
      s.shutdown(tcp::socket::shutdown_both);
    }};
    ws_client client{quick()};
    recorder r;
    open(client, plain(srv.port()), r);
    CAF_REQUIRE(r.wait_closed());
    CAF_CHECK_NOT_EQUAL(r.reason(), "<open>");
    CAF_CHECK_EQUAL(r.message_count(), 0u);  // the partial frame is never delivered
  }
}

CAF_TEST(a refused upgrade says the status and a refused port fails) {
  {
    ws_server srv{refuse(404)};
    ws_client client{quick()};
    recorder r;
    open(client, plain(srv.port()), r);
    CAF_REQUIRE(r.wait_closed());
    CAF_CHECK_EQUAL(r.reason(), std::string(ws_error::handshake) + "HTTP 404");
    CAF_CHECK(!r.opened);
  }
  uint16_t dead_port;
  {
    ws_server srv{echo};
    dead_port = srv.port();
  }  // closed: nothing listens there now
  ws_client client{quick()};
  recorder r;
  open(client, plain(dead_port), r);
  CAF_REQUIRE(r.wait_closed());
  CAF_CHECK(!r.opened);
  CAF_CHECK(!starts_with(r.reason(), ws_error::timeout));
  CAF_MESSAGE("refused: " << r.reason());
}

CAF_TEST(a server that never answers the upgrade times out) {
  ws_server* self = nullptr;
  ws_server srv{[&self](tcp::socket&) { hold_until_stopped(self); }};
  self = &srv;
  auto o = quick();
  o.connect_timeout = 300ms;
  ws_client client{o};
  recorder r;
  open(client, plain(srv.port()), r);
  CAF_REQUIRE(r.wait_closed());
  CAF_CHECK(starts_with(r.reason(), ws_error::timeout));
  CAF_CHECK(!r.opened);
}

CAF_TEST(a peer that stops answering pings is closed as idle) {
  ws_server* self = nullptr;
  ws_server srv{[&self](tcp::socket& s) {
    websocket::stream<tcp::socket&> ws{s};
    ws.accept();
    hold_until_stopped(self);  // never reads again: pings go unanswered
  }};
  self = &srv;
  auto o = quick();
  o.ping_interval = 1s;
  o.ping_timeout = 1s;
  ws_client client{o};
  recorder r;
  open(client, plain(srv.port()), r);
  CAF_REQUIRE(r.wait([](recorder& x) { return x.opened; }));
  CAF_REQUIRE(r.wait_closed());
  CAF_CHECK(starts_with(r.reason(), ws_error::timeout));
}

CAF_TEST(a peer that answers pings stays open past the idle time) {
  ws_server srv{echo};  // reading, so Beast answers the pings
  auto o = quick();
  // Idle limit 4 s: Beast pings after 2 s and the pong has 2 s to come back, room
  // enough for a peer thread under ThreadSanitizer.
  o.ping_interval = 1s;
  o.ping_timeout = 3s;
  ws_client client{o};
  recorder r;
  auto conn = open(client, plain(srv.port()), r);
  CAF_REQUIRE(r.wait([](recorder& x) { return x.opened; }));
  std::this_thread::sleep_for(6s);  // 1.5 times the idle limit with nothing but pings
  CAF_CHECK_EQUAL(r.reason(), "<open>");
  conn->send("still here");
  CAF_CHECK(r.wait([](recorder& x) { return x.messages.size() == 1; }));
  conn->close();
  CAF_CHECK(r.wait_closed());
}

CAF_TEST(tls is verified: an unknown certificate and a wrong host fail and a trusted one works) {
  ssl::context server_tls{ssl::context::tls_server};
  server_tls.use_certificate_chain(net::buffer(cert().cert_pem));
  server_tls.use_private_key(net::buffer(cert().key_pem), ssl::context::pem);
  ws_server srv{[&server_tls](tcp::socket& s) {
    websocket::stream<ssl::stream<tcp::socket&>> ws{s, server_tls};
    ws.next_layer().handshake(ssl::stream_base::server);
    ws.accept();
    for (;;) {
      beast::flat_buffer b;
      ws.read(b);
      ws.write(b.data());
    }
  }};
  {
    ws_client client{quick()};  // the system store only
    recorder r;
    open(client, secure(srv.port()), r);
    CAF_REQUIRE(r.wait_closed());
    CAF_CHECK(starts_with(r.reason(), ws_error::tls));
    CAF_CHECK(!r.opened);
    CAF_MESSAGE("unknown CA: " << r.reason());
  }
  auto trusting = quick();
  trusting.ca_file = cert().ca_file;
  {
    ws_client client{trusting};
    recorder r;
    open(client, secure(srv.port(), "localhost"), r);  // the certificate names 127.0.0.1 only
    CAF_REQUIRE(r.wait_closed());
    CAF_CHECK(starts_with(r.reason(), ws_error::tls));
    CAF_MESSAGE("wrong host: " << r.reason());
  }
  {
    ws_client client{trusting};
    recorder r;
    auto conn = open(client, secure(srv.port()), r);
    conn->send("over tls");
    CAF_REQUIRE(r.wait([](recorder& x) { return x.messages.size() == 1; }));
    auto got = r.messages.front();
    CAF_CHECK_EQUAL(got, "over tls");
    conn->close();
    CAF_CHECK(r.wait_closed());
  }
}

CAF_TEST(stop ends every connection once and quickly and refuses new ones) {
  ws_server srv{echo};
  ws_client client{quick()};
  std::vector<std::unique_ptr<recorder>> rs;
  for (int i = 0; i < 10; ++i) {
    rs.push_back(std::make_unique<recorder>());
    open(client, plain(srv.port()), *rs.back());
  }
  for (auto& r : rs)
    CAF_REQUIRE(r->wait([](recorder& x) { return x.opened; }));
  auto t0 = std::chrono::steady_clock::now();
  client.stop();
  auto took = std::chrono::steady_clock::now() - t0;
  CAF_CHECK(took < 5s);  // not a timing test: the idle timer (50 s) must not hold it up
  for (auto& r : rs) {
    CAF_CHECK_EQUAL(r->close_count(), 1u);
    CAF_CHECK_EQUAL(r->reason(), std::string(ws_error::stopped));
  }
  recorder late;
  open(client, plain(srv.port()), late);
  CAF_REQUIRE(late.wait_closed());
  CAF_CHECK_EQUAL(late.reason(), std::string(ws_error::stopped));
  client.stop();  // idempotent
}
