// The websocket client on Beast: one io_context on `io_threads` threads, one
// strand per connection. A connection is a small state machine — resolve, TCP,
// TLS (verified), upgrade, then reads gated by ack() and an ordered write queue —
// that ends exactly once (`finish`), whatever ends it: the peer, an error, a
// timeout, close() or stop().
#include "http/ws_client.hpp"

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/log.hpp"

namespace relayhost::http {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

constexpr const char* io_thread_name = "rh-ws-client";  // ≤ 15 characters (pthread)
constexpr auto close_timeout = std::chrono::seconds{5};  // our close frame's answer

std::string host_header(const ws_target& t, uint16_t port) {
  bool v6 = t.host.find(':') != std::string::npos;
  std::string h = v6 ? "[" + t.host + "]" : t.host;
  if (port != (t.tls ? 443 : 80))
    h += ":" + std::to_string(port);
  return h;
}

} // namespace

namespace ws_detail {

// Shared by the client and every connection (which may outlive the client's handle).
struct engine {
  using options = ws_client::options;
  explicit engine(options o) : opts(std::move(o)), tls(ssl::context::tls_client) {
    tls.set_verify_mode(ssl::verify_peer);
    error_code ec;
    tls.set_default_verify_paths(ec);
    if (ec)
      log::warn("websocket client: the system CA store could not be loaded", {{"error", ec.message()}});
    if (!opts.ca_file.empty()) {
      tls.load_verify_file(opts.ca_file, ec);
      if (ec)
        log::warn("websocket client: RELAY_CA_FILE could not be loaded", {{"error", ec.message()}});
    }
  }

  struct conn_base;

  const options opts;
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  ssl::context tls;
  std::vector<std::thread> threads;
  std::mutex mu;  // guards stopped and live
  std::condition_variable ended;  // signalled when live loses a connection
  bool stopped = false;
  std::unordered_map<const conn_base*, std::weak_ptr<conn_base>> live;
  std::atomic<size_t> open{0};
  std::mutex join_mu;
};

/// How long stop() lets connections run their endings before it stops the io threads.
constexpr auto shutdown_wait = std::chrono::seconds{2};

thread_local const engine* current_client = nullptr;  // the client whose io thread this is

struct engine::conn_base : ws_connection {
  /// Ends the connection with "stopped" (posted to its strand; any thread).
  virtual void stop_now() = 0;
  /// Ends a connection that was never started, on the calling thread: after
  /// stop() no io thread runs the strands any more.
  virtual void end_unstarted() = 0;
};

namespace {

using impl_ptr = std::shared_ptr<engine>;

template <class Stream>
class conn final : public engine::conn_base, public std::enable_shared_from_this<conn<Stream>> {
public:
  template <class... Args>
  conn(impl_ptr owner, net::strand<net::io_context::executor_type> strand, ws_target target, ws_handlers h,
       Args&&... stream_args)
    : owner_(std::move(owner)), strand_(strand), target_(std::move(target)), h_(std::move(h)),
      resolver_(strand_), deadline_(strand_), ws_(std::forward<Args>(stream_args)...) {
    if (target_.port == 0)
      target_.port = target_.tls ? 443 : 80;
    if (target_.target.empty())
      target_.target = "/";
  }

  void start() {
    auto self = this->shared_from_this();
    deadline_.expires_after(owner_->opts.connect_timeout);
    deadline_.async_wait([self](error_code ec) {
      if (!ec && !self->opened_)
        self->finish(std::string(ws_error::timeout) + "connect");
    });
    resolver_.async_resolve(target_.host, std::to_string(target_.port),
                            [self](error_code ec, tcp::resolver::results_type results) {
                              if (self->done_)
                                return;
                              if (ec)
                                return self->finish(std::string(ws_error::resolve) + ec.message());
                              self->connect(results);
                            });
  }

  // -- ws_connection (any thread) --------------------------------------------------
  void send(std::string text) override {
    net::post(strand_, [self = this->shared_from_this(), text = std::move(text)]() mutable {
      if (self->done_)
        return;
      self->queued_bytes_ += text.size();
      if (self->queued_bytes_ > self->owner_->opts.max_write_queue_bytes)
        return self->finish(ws_error::write_queue_full);
      self->writes_.push_back(std::move(text));
      self->write_next();
    });
  }

  void ack() override {
    net::post(strand_, [self = this->shared_from_this()] {
      if (self->done_ || !self->awaiting_ack_)
        return;
      self->awaiting_ack_ = false;
      self->read_next();
    });
  }

  void close() override {
    net::post(strand_, [self = this->shared_from_this()] { self->close_cleanly(); });
  }

  void stop_now() override {
    net::post(strand_, [self = this->shared_from_this()] { self->finish(ws_error::stopped); });
  }

  void end_unstarted() override { finish(ws_error::stopped); }

private:
  void connect(const tcp::resolver::results_type& results) {
    auto self = this->shared_from_this();
    beast::get_lowest_layer(ws_).async_connect(results, [self](error_code ec, const tcp::endpoint&) {
      if (self->done_)
        return;
      if (ec)
        return self->finish(ec.message());
      self->secure();
    });
  }

  void secure() {
    if constexpr (std::is_same_v<Stream, websocket::stream<ssl::stream<beast::tcp_stream>>>) {
      auto* native = ws_.next_layer().native_handle();
      error_code ec;
      auto addr = net::ip::make_address(target_.host, ec);
      auto* param = SSL_get0_param(native);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (!ec) {
        X509_VERIFY_PARAM_set1_ip_asc(param, target_.host.c_str());  // no SNI for addresses (RFC 6066)
      } else {
        X509_VERIFY_PARAM_set1_host(param, target_.host.c_str(), 0);
        SSL_set_tlsext_host_name(native, target_.host.c_str());
      }
      auto self = this->shared_from_this();
      ws_.next_layer().async_handshake(ssl::stream_base::client, [self](error_code ec) {
        if (self->done_)
          return;
        if (ec)
          return self->finish(self->tls_reason(ec));
        self->upgrade();
      });
    } else {
      upgrade();
    }
  }

  std::string tls_reason(const error_code& ec) {
    std::string why = ec.message();
    if constexpr (std::is_same_v<Stream, websocket::stream<ssl::stream<beast::tcp_stream>>>) {
      auto result = SSL_get_verify_result(ws_.next_layer().native_handle());
      if (result != X509_V_OK)
        why = std::string("certificate verify failed: ") + X509_verify_cert_error_string(result);
    }
    return std::string(ws_error::tls) + why;
  }

  void upgrade() {
    auto& o = owner_->opts;
    beast::get_lowest_layer(ws_).expires_never();  // the websocket's own timeouts from here on
    websocket::stream_base::timeout t{};
    t.handshake_timeout = o.connect_timeout;
    t.idle_timeout = o.ping_interval + o.ping_timeout;
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.set_option(websocket::stream_base::decorator(
      [ua = o.user_agent](websocket::request_type& req) { req.set(beast::http::field::user_agent, ua); }));
    ws_.read_message_max(o.max_message_bytes);
    ws_.auto_fragment(false);
    ws_.text(true);
    auto self = this->shared_from_this();
    ws_.async_handshake(response_, host_header(target_, target_.port), target_.target, [self](error_code ec) {
      if (self->done_)
        return;
      if (ec) {
        auto status = self->response_.result_int();
        if (status != 0 && status != 101)
          return self->finish(std::string(ws_error::handshake) + "HTTP " + std::to_string(status));
        return self->finish(std::string(ws_error::handshake) + ec.message());
      }
      self->opened();
    });
  }

  void opened() {
    opened_ = true;
    deadline_.cancel();
    ++owner_->open;
    response_ = {};
    if (h_.on_open)
      h_.on_open();
    if (done_)
      return;
    write_next();
    read_next();
  }

  void read_next() {
    if (done_ || !opened_ || reading_ || awaiting_ack_ || closing_)
      return;
    reading_ = true;
    buffer_.clear();
    auto self = this->shared_from_this();
    ws_.async_read(buffer_, [self](error_code ec, size_t) {
      self->reading_ = false;
      if (self->done_)
        return;
      if (ec)
        return self->finish(self->read_reason(ec));
      auto data = buffer_of(self->buffer_);
      self->buffer_.clear();
      self->buffer_.shrink_to_fit();  // a big message does not keep its buffer while idle
      self->awaiting_ack_ = true;
      if (self->h_.on_message)
        self->h_.on_message(std::move(data));
    });
  }

  static std::string buffer_of(beast::flat_buffer& b) {
    auto d = b.data();
    return std::string(static_cast<const char*>(d.data()), d.size());
  }

  std::string read_reason(const error_code& ec) {
    if (ec == websocket::error::message_too_big || ec == websocket::error::buffer_overflow)
      return ws_error::too_large;
    if (ec == websocket::error::closed || ec == net::error::eof || ec == ssl::error::stream_truncated)
      return ws_error::closed_by_peer;
    if (ec == beast::error::timeout)
      return std::string(ws_error::timeout) + "idle (no pong)";
    return ec.message();
  }

  void write_next() {
    if (done_ || !opened_ || writing_ || writes_.empty() || closing_)
      return;
    writing_ = true;
    auto self = this->shared_from_this();
    ws_.async_write(net::buffer(writes_.front()), [self](error_code ec, size_t) {
      self->writing_ = false;
      if (self->done_)
        return;
      if (ec)
        return self->finish(self->read_reason(ec));
      self->queued_bytes_ -= self->writes_.front().size();
      self->writes_.pop_front();
      if (self->closing_ && self->writes_.empty())
        return self->send_close();
      self->write_next();
    });
  }

  void close_cleanly() {
    if (done_)
      return;
    if (!opened_)
      return finish(ws_error::closed);
    if (closing_)
      return;
    closing_ = true;
    deadline_.expires_after(close_timeout);
    deadline_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (!ec)
        self->finish(ws_error::closed);
    });
    if (!writing_)
      send_close();  // else after the write in progress (Beast allows one write at a time)
  }

  void send_close() {
    writes_.clear();
    auto self = this->shared_from_this();
    ws_.async_close(websocket::close_code::normal, [self](error_code) { self->finish(ws_error::closed); });
  }

  void finish(std::string reason) {
    if (done_)
      return;
    done_ = true;
    error_code ignored;
    deadline_.cancel();
    resolver_.cancel();
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).socket().close(ignored);
    if (opened_)
      --owner_->open;
    writes_.clear();
    auto handlers = std::move(h_);
    h_ = {};
    {
      std::lock_guard<std::mutex> g(owner_->mu);
      owner_->live.erase(this);
    }
    owner_->ended.notify_all();
    if (handlers.on_close)
      handlers.on_close(std::move(reason));
  }

  impl_ptr owner_;
  net::strand<net::io_context::executor_type> strand_;
  ws_target target_;
  ws_handlers h_;
  tcp::resolver resolver_;
  net::steady_timer deadline_;
  Stream ws_;
  websocket::response_type response_;
  beast::flat_buffer buffer_;
  std::deque<std::string> writes_;
  size_t queued_bytes_ = 0;
  bool opened_ = false, reading_ = false, writing_ = false, awaiting_ack_ = false, closing_ = false, done_ = false;
};

} // namespace

using plain_stream = websocket::stream<beast::tcp_stream>;
using tls_stream = websocket::stream<ssl::stream<beast::tcp_stream>>;

} // namespace ws_detail

using namespace ws_detail;

struct ws_client::impl : engine {
  using engine::engine;
};

ws_client::ws_client(options opts) : impl_(std::make_shared<impl>(std::move(opts))) {
  impl_->work.emplace(impl_->ioc.get_executor());
  auto n = std::max<size_t>(1, impl_->opts.io_threads);
  for (size_t i = 0; i < n; ++i)
    impl_->threads.emplace_back([p = impl_] {
      current_client = p.get();
      pthread_setname_np(pthread_self(), io_thread_name);
      for (;;) {
        try {
          p->ioc.run();
          return;
        } catch (const std::exception& e) {
          log::error("websocket client: unexpected exception on an io thread", {{"what", e.what()}});
        }
      }
    });
}

ws_client::~ws_client() {
  stop();
  if (current_client == impl_.get())
    for (auto& t : impl_->threads)
      if (t.joinable())
        t.detach();
}

std::shared_ptr<ws_connection> ws_client::connect(const ws_target& target, ws_handlers handlers) {
  auto strand = net::make_strand(impl_->ioc);
  std::shared_ptr<impl::conn_base> c;
  std::function<void()> start;
  if (target.tls) {
    auto t = std::make_shared<conn<tls_stream>>(impl_, strand, target, std::move(handlers), strand, impl_->tls);
    start = [t] { t->start(); };
    c = t;
  } else {
    auto t = std::make_shared<conn<plain_stream>>(impl_, strand, target, std::move(handlers), strand);
    start = [t] { t->start(); };
    c = t;
  }
  {
    std::lock_guard<std::mutex> g(impl_->mu);
    if (!impl_->stopped) {
      impl_->live.emplace(c.get(), c);
      net::post(strand, std::move(start));
      return c;
    }
  }
  c->end_unstarted();  // on_close("stopped") here and now: no io thread is left to run it
  return c;
}

void ws_client::stop() {
  std::vector<std::shared_ptr<impl::conn_base>> ending;
  {
    std::lock_guard<std::mutex> g(impl_->mu);
    if (!impl_->stopped) {
      impl_->stopped = true;
      for (auto& [p, w] : impl_->live)
        if (auto c = w.lock())
          ending.push_back(std::move(c));
    }
  }
  for (auto& c : ending)
    c->stop_now();  // each ends on its own strand, after what it is doing now
  {
    std::unique_lock<std::mutex> g(impl_->mu);
    impl_->work.reset();
    if (current_client != impl_.get()) {
      // Every ending has run once live is empty. What may still be queued is Beast's
      // own idle/ping timer of a finished stream, which would keep run() going until
      // it fires (up to the idle timeout): stop the context rather than wait for it.
      impl_->ended.wait_for(g, shutdown_wait, [this] { return impl_->live.empty(); });
      impl_->ioc.stop();
    }
  }
  if (current_client == impl_.get())
    return;  // on an io thread: it cannot be joined from here; ~ws_client detaches
  std::lock_guard<std::mutex> j(impl_->join_mu);
  for (auto& t : impl_->threads)
    if (t.joinable())
      t.join();
}

size_t ws_client::open_connections() const {
  return impl_->open.load();
}

} // namespace relayhost::http
