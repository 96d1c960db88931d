// The server: owns the io_context, its threads, the listener and the state every
// session shares; binds at start(), winds down at stop().
#include "http/server.hpp"

#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>

#include "core/log.hpp"
#include "http/listener.hpp"
#include "http/server_context.hpp"
#include "http/session.hpp"

namespace relayhost::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

struct server::impl {
  impl(server_options options, std::shared_ptr<const router> routes)
    : ctx(std::move(options), std::move(routes)), ioc(static_cast<int>(std::max<size_t>(1, ctx.options.io_threads))) {}

  std::optional<std::string> start();
  void stop();
  void run_io();
  bool on_io_thread() const;

  // Declaration order is destruction order reversed: sessions that outlive stop()
  // (held by handlers still queued in ioc) are destroyed with ioc and unregister
  // from ctx, so ctx must be declared first.
  server_context ctx;
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::shared_ptr<listener> accepting;
  std::vector<std::thread> threads;
  uint16_t port = 0;

  enum class state { created, running, stopped };
  std::mutex state_mutex;  // held through start() and stop(): a second stop() waits for the first
  state current = state::created;
};

namespace {

std::string address_text(const std::string& host, uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

} // namespace

std::optional<std::string> server::impl::start() {
  std::lock_guard<std::mutex> guard{state_mutex};
  if (current != state::created)
    return "the HTTP server was already started";
  auto& opts = ctx.options;
  auto fail = [&](const boost::system::error_code& ec) {
    return "cannot listen on " + address_text(opts.host, opts.port) + ": " + ec.message();
  };

  boost::system::error_code ec;
  tcp::endpoint endpoint;
  auto address = net::ip::make_address(opts.host, ec);
  if (!ec) {
    endpoint = {address, opts.port};
  } else {
    // A host name (e.g. "localhost"): resolving blocks, which is fine before any io thread runs.
    tcp::resolver resolver{ioc};
    auto results = resolver.resolve(opts.host, std::to_string(opts.port), ec);
    if (ec)
      return fail(ec);
    if (results.empty())
      return fail(net::error::host_not_found);
    endpoint = results.begin()->endpoint();
  }

  tcp::acceptor acceptor{net::make_strand(ioc)};
  if (acceptor.open(endpoint.protocol(), ec); ec)
    return fail(ec);
  if (acceptor.set_option(net::socket_base::reuse_address(true), ec); ec)
    return fail(ec);
  if (acceptor.bind(endpoint, ec); ec)
    return fail(ec);
  if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec)
    return fail(ec);
  port = acceptor.local_endpoint(ec).port();
  if (ec)
    return fail(ec);

  if (opts.public_url.empty()) {
    ctx.public_url = "http://" + address_text(opts.host, port);
  } else {
    ctx.public_url = opts.public_url;
    // "https://api.example.com/" + "/tenant" must not become "//tenant".
    if (ctx.public_url.back() == '/')
      ctx.public_url.pop_back();
  }

  accepting = std::make_shared<listener>(ioc, std::move(acceptor), ctx);
  accepting->run();
  work.emplace(ioc.get_executor());
  size_t n = std::max<size_t>(1, opts.io_threads);
  for (size_t i = 0; i < n; ++i)
    threads.emplace_back([this] { run_io(); });
  current = state::running;
  log::info("http server listening", {{"address", address_text(opts.host, port)},
                                      {"public_url", ctx.public_url},
                                      {"io_threads", std::to_string(n)}});
  return std::nullopt;
}

void server::impl::run_io() {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      // A handler threw past every catch: log it and keep the thread serving.
      log::error("http io thread caught an exception", {{"what", e.what()}});
    }
  }
}

bool server::impl::on_io_thread() const {
  for (auto& t : threads)
    if (t.get_id() == std::this_thread::get_id())
      return true;
  return false;
}

void server::impl::stop() {
  std::lock_guard<std::mutex> guard{state_mutex};
  if (current != state::running) {
    current = state::stopped;
    return;
  }
  if (on_io_thread()) {
    // Joining our own thread cannot work; this is a wiring bug, so fail loudly.
    log::error("http server stop() called from one of its io threads");
    std::abort();
  }
  current = state::stopped;

  accepting->stop();
  auto live = ctx.connections.begin_shutdown();
  for (auto& s : live)
    s->begin_shutdown();
  live.clear();  // don't keep sessions alive through the wait

  auto deadline = std::chrono::steady_clock::now() + ctx.options.shutdown_grace;
  if (!ctx.connections.wait_until_empty(deadline))
    log::warn("http shutdown grace expired; closing open connections",
              {{"connections", std::to_string(ctx.connections.size())}});

  ctx.gate->close();  // from here on, late answers are dropped, never posted
  work.reset();
  ioc.stop();
  for (auto& t : threads)
    t.join();
  threads.clear();

  // Only this thread touches the io objects now.
  for (auto& s : ctx.connections.live())
    s->close_now();
  log::info("http server stopped");
}

server::server(server_options options, std::shared_ptr<const router> routes) {
  if (!routes)
    throw std::invalid_argument("http::server needs a router");
  impl_ = std::make_unique<impl>(std::move(options), std::move(routes));
}

server::~server() {
  stop();
}

std::optional<std::string> server::start() {
  return impl_->start();
}

uint16_t server::port() const {
  return impl_->port;
}

const std::string& server::public_url() const {
  return impl_->ctx.public_url;
}

void server::stop() {
  impl_->stop();
}

} // namespace relayhost::http
