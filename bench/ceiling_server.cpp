// The performance ceiling of the public listener: the least an authenticated
// request can cost here. A bare Beast server on N io threads that parses the
// request, runs the full NIP-98 check (the same verifier as relayhost, on the io
// thread) and answers 200 `{}` (or 401). No routing, no actors, no logging.
// Measure it with bench_loadgen, then the same load against relayhost: the gap is
// what routing, actors and storage cost.
//
//   bench_ceiling_server [--host 127.0.0.1] [--port 8088] [--threads 2]
//                        [--public-url http://127.0.0.1:8088] [--skew 60]
//                        [--mode raw|relayhost|sink]
// --mode relayhost runs relayhost's own http::server instead (routes GET and POST
// /tenant and /tenant/relays, answered on the io thread, request log at warn), to
// measure the front-end's overhead over the bare server.
// --mode sink is the raw server without any check: every request gets 200 `{}`.
// bench/run_tenant_api.py points relayhost's ZOOID_API_URL at one, so that each
// new relay's push to zooid succeeds at once, as with a healthy zooid.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "core/errc.hpp"
#include "core/log.hpp"
#include "http/server.hpp"
#include "nostr/nip98.hpp"

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

namespace {

struct options {
  std::string host = "127.0.0.1";
  uint16_t port = 8088;
  size_t threads = 2;
  std::string public_url;  // default http://host:port
  int64_t skew = 60;
  std::string mode = "raw";
  // The same limits relayhost applies, so both servers do the same work per request.
  size_t body_limit = 64 * 1024;
  uint32_t header_limit = 16 * 1024;
  std::chrono::seconds idle_timeout{30};
};

struct shared_state {
  relayhost::nostr::nip98_verifier verifier;
  std::string public_url;
  const options& opts;
};

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

class connection : public std::enable_shared_from_this<connection> {
public:
  connection(tcp::socket&& socket, shared_state& state) : stream_(std::move(socket)), state_(state) {}

  void run() {
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&connection::read, shared_from_this()));
  }

private:
  void read() {
    parser_.emplace();
    parser_->body_limit(state_.opts.body_limit);
    parser_->header_limit(state_.opts.header_limit);
    stream_.expires_after(state_.opts.idle_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      stream_.close();
      return;
    }
    auto& req = parser_->get();
    std::string url = state_.public_url;
    url += req.target();
    auto outcome = state_.opts.mode == "sink"
                     ? relayhost::nostr::nip98_outcome{true, {}, {}}
                     : state_.verifier.verify(
                         {req[bhttp::field::authorization], req.method_string(), url, req.body()}, unix_now());
    res_ = {};
    res_.version(req.version());
    res_.keep_alive(req.keep_alive());
    res_.set(bhttp::field::content_type, "application/json; charset=utf-8");
    if (outcome.ok) {
      res_.result(bhttp::status::ok);
      res_.body() = "{}";
    } else {
      res_.result(bhttp::status::unauthorized);
      res_.body() = relayhost::error_body({relayhost::errc::unauthorized, outcome.error, {}});
    }
    res_.prepare_payload();
    bhttp::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec || !self->res_.keep_alive()) {
        self->stream_.close();
        return;
      }
      self->read();
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> res_;
  shared_state& state_;
};

class acceptor_loop : public std::enable_shared_from_this<acceptor_loop> {
public:
  acceptor_loop(net::io_context& ioc, tcp::acceptor&& acceptor, shared_state& state)
    : ioc_(ioc), acceptor_(std::move(acceptor)), state_(state) {}

  void accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [self = shared_from_this()](beast::error_code ec, tcp::socket s) {
      if (ec == net::error::operation_aborted)
        return;
      if (!ec)
        std::make_shared<connection>(std::move(s), self->state_)->run();
      self->accept();
    });
  }

private:
  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  shared_state& state_;
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: bench_ceiling_server [--host H] [--port P] [--threads N] [--public-url URL]\n"
               "                            [--skew SECONDS] [--mode raw|relayhost|sink]\n");
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage();
      return argv[++i];
    };
    if (a == "--host") o.host = value();
    else if (a == "--port") o.port = static_cast<uint16_t>(std::stoul(value()));
    else if (a == "--threads") o.threads = std::stoul(value());
    else if (a == "--public-url") o.public_url = value();
    else if (a == "--skew") o.skew = std::stoll(value());
    else if (a == "--mode") o.mode = value();
    else usage();
  }
  if (o.mode != "raw" && o.mode != "relayhost" && o.mode != "sink")
    usage();
  if (o.threads == 0)
    o.threads = 1;
  return o;
}

int run_raw(const options& opts) {
  shared_state state{relayhost::nostr::nip98_verifier{opts.skew}, {}, opts};
  net::io_context ioc{static_cast<int>(opts.threads)};
  tcp::acceptor acceptor{net::make_strand(ioc)};
  tcp::endpoint ep{net::ip::make_address(opts.host), opts.port};
  beast::error_code ec;
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "cannot listen on %s:%u: %s\n", opts.host.c_str(), opts.port, ec.message().c_str());
    return 1;
  }
  auto port = acceptor.local_endpoint().port();
  state.public_url = opts.public_url.empty() ? "http://" + opts.host + ":" + std::to_string(port) : opts.public_url;
  std::make_shared<acceptor_loop>(ioc, std::move(acceptor), state)->accept();

  net::signal_set signals{ioc, SIGINT, SIGTERM};
  signals.async_wait([&](beast::error_code, int) { ioc.stop(); });
  std::printf("ceiling server (%s) on %s:%u, %zu io threads, public_url %s\n", opts.mode.c_str(),
              opts.host.c_str(), port, opts.threads, state.public_url.c_str());
  std::fflush(stdout);
  std::vector<std::thread> threads;
  for (size_t i = 1; i < opts.threads; ++i)
    threads.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : threads)
    t.join();
  return 0;
}

int run_relayhost(const options& opts) {
  using namespace relayhost;
  log::configure(log::level::warn, false);  // a log line per request would measure the logger
  auto routes = std::make_shared<http::router>();
  auto ok = [](http::api_request&&, http::responder reply) { reply(http::api_response::json(200, "{}")); };
  for (auto templ : {"/tenant", "/tenant/relays"}) {
    routes->add("GET", templ, http::auth_mode::nip98, ok);
    routes->add("POST", templ, http::auth_mode::nip98, ok);
  }
  http::server_options so;
  so.host = opts.host;
  so.port = opts.port;
  so.public_url = opts.public_url;
  so.io_threads = opts.threads;
  so.nip98_max_skew = opts.skew;

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // before the io threads exist

  http::server server{so, routes};
  if (auto err = server.start()) {
    std::fprintf(stderr, "%s\n", err->c_str());
    return 1;
  }
  std::printf("ceiling server (relayhost http::server) on %s:%u, %zu io threads, public_url %s\n",
              opts.host.c_str(), server.port(), opts.threads, server.public_url().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  server.stop();
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  auto opts = parse(argc, argv);
  return opts.mode == "relayhost" ? run_relayhost(opts) : run_raw(opts);
}
