// The HTTP client's machinery: the engine (io_context and threads, the keep-alive
// pool, the in-flight registry that stop() cancels) and one `exchange` per request
// (resolve → connect → write → read under one deadline, on one strand).
#include "http/client.hpp"

#include <pthread.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <deque>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "core/log.hpp"

namespace relayhost::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace client_detail {

using clock = std::chrono::steady_clock;
using callback = std::function<void(client_response)>;
using wire_request = bhttp::request<bhttp::string_body>;
using endpoint_key = std::pair<std::string, uint16_t>;  // (host, port) as the caller spelled them

constexpr std::string_view user_agent = "relayhost/" RELAYHOST_VERSION;
constexpr auto min_sweep_interval = std::chrono::milliseconds(100);
constexpr const char* io_thread_name = "rh-http-client";  // ≤ 15 characters (pthread)

// ---------------------------------------------------------------------------
// Request validation and building (pure).

bool is_tchar(unsigned char c) {
  if (std::isalnum(c))
    return true;
  return std::string_view{"!#$%&'*+-.^_`|~"}.find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

// field-value: visible characters, SP, HTAB and obs-text; never CR, LF or NUL
// (which would let a value smuggle a header or a second request).
bool is_field_value(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c == '\t' || (c >= 0x20 && c != 0x7f);
  });
}

bool is_origin_form(std::string_view s) {
  return !s.empty() && s.front() == '/' && std::all_of(s.begin(), s.end(), [](char ch) {
           auto c = static_cast<unsigned char>(ch);
           return c > 0x20 && c != 0x7f;
         });
}

// Headers whose value follows from the request itself or from how the client
// manages connections; a caller's copy would contradict ours.
bool is_client_managed(std::string_view name) {
  for (std::string_view managed : {"host", "content-length", "transfer-encoding", "connection", "expect"})
    if (beast::iequals(name, managed))
      return true;
  return false;
}

std::string strip_brackets(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

std::string default_host_header(const std::string& host, uint16_t port) {
  auto bare = strip_brackets(host);
  auto text = bare.find(':') != std::string::npos ? "[" + bare + "]" : bare;
  return port == 80 ? text : text + ":" + std::to_string(port);
}

std::string invalid(std::string_view what) {
  return std::string{client_error::invalid_request} + std::string{what};
}

/// Fills `out` from `req` (moving the body); an "invalid request: …" text when
/// something cannot be sent as given. Never quotes a header value (tokens).
std::optional<std::string> build_wire_request(client_request& req, wire_request& out, std::string& host_header) {
  if (!is_token(req.method))
    return invalid("method");
  if (strip_brackets(req.host).empty())
    return invalid("host");
  if (req.port == 0)
    return invalid("port");
  if (!is_origin_form(req.target))
    return invalid("target");
  host_header = req.host_header.empty() ? default_host_header(req.host, req.port) : req.host_header;
  if (host_header.empty() || !is_field_value(host_header))
    return invalid("host_header");

  out.version(11);
  if (auto verb = bhttp::string_to_verb(req.method); verb != bhttp::verb::unknown)
    out.method(verb);
  else
    out.method_string(req.method);
  out.target(req.target);
  out.set(bhttp::field::host, host_header);
  out.set(bhttp::field::user_agent, user_agent);
  for (const auto& [name, value] : req.headers) {
    if (!is_token(name))
      return invalid("header name");
    if (is_client_managed(name))
      return invalid("header " + name + " is set by the client");
    if (!is_field_value(value))
      return invalid("value of header " + name);
    if (beast::iequals(name, "user-agent"))
      out.set(bhttp::field::user_agent, value);
    else
      out.insert(name, value);
  }
  // RFC 9110 §8.6: send Content-Length when the method gives content a meaning,
  // even for an empty body (some servers answer 411 to a bodiless POST/PATCH).
  bool length_expected = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
  if (length_expected || !req.body.empty())
    out.content_length(req.body.size());
  out.body() = std::move(req.body);
  return std::nullopt;
}

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find_first_of("?#"));
}

// ---------------------------------------------------------------------------
// Error texts.

bool is_http_parse_error(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category();
}

std::string describe(const error_code& ec) {
  if (ec == beast::error::timeout || ec == net::error::timed_out)  // ours, or the kernel's
    return std::string{client_error::timeout};
  if (ec == net::error::operation_aborted)
    return std::string{client_error::stopped};
  if (ec == net::error::connection_refused)
    return std::string{client_error::connection_refused};
  if (ec == net::error::connection_reset || ec == net::error::broken_pipe || ec == net::error::connection_aborted)
    return std::string{client_error::connection_reset};
  if (ec == net::error::eof || ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message)
    return std::string{client_error::connection_closed};
  if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow)
    return std::string{client_error::response_too_large};
  if (is_http_parse_error(ec))
    return std::string{client_error::malformed_response};
  return ec.message();
}

/// The connection went away under us (as opposed to a timeout or a bad response).
bool is_connection_loss(const error_code& ec) {
  return ec == net::error::eof || ec == bhttp::error::end_of_stream || ec == net::error::connection_reset
         || ec == net::error::broken_pipe || ec == net::error::connection_aborted;
}

void deliver(callback& done, client_response response) {
  try {
    done(std::move(response));
  } catch (const std::exception& e) {
    log::error("http client: a response callback threw", {{"what", e.what()}});
  } catch (...) {
    log::error("http client: a response callback threw");
  }
  done = nullptr;  // release what it captured now, not when the exchange dies
}

client_response failure(std::string_view text) {
  client_response r;
  r.error = std::string{text};
  return r;
}

// ---------------------------------------------------------------------------
// One TCP connection to an endpoint, pooled between exchanges. Its stream's
// executor is the strand it was created on; whoever uses it runs there.
// TLS would live here: a beast::ssl_stream around the tcp_stream, a handshake
// after connect (SNI, verify_peer, default verify paths, host_name_verification),
// and the pool key extended by the scheme. Not implemented: zooid is plain HTTP.
struct connection {
  explicit connection(net::any_io_executor ex) : stream(std::move(ex)) {}
  beast::tcp_stream stream;
  clock::time_point idle_since{};
};

/// True when an idle connection still looks usable: nothing to read and no EOF.
/// Only called while the connection is idle (no operation pending on it).
bool still_open(connection& c) {
  char byte;
  auto n = ::recv(c.stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK;
  return false;  // 0: the server closed it; >0: unsolicited bytes (e.g. a 408): not a clean connection
}

class exchange;

// ---------------------------------------------------------------------------
// The engine: everything client::impl holds. Shared with the io threads so that
// a client destroyed on its own io thread (inside a callback) can detach them.
class engine {
public:
  explicit engine(client::options opts);
  ~engine();

  void start(const std::shared_ptr<engine>& self);
  void send(client_request req, callback done);
  void stop();
  /// From ~client on an io thread: the threads cannot be joined, let them finish alone.
  void detach_threads_if_on_io_thread();
  size_t idle_connections() const;

  // For exchanges (any thread).
  const client::options& options() const { return opts_; }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  void check_in(const endpoint_key& key, std::unique_ptr<connection> conn);
  void forget(const exchange* x);

private:
  bool pooling() const { return opts_.max_idle_per_endpoint > 0 && opts_.idle_keepalive.count() > 0 && opts_.max_idle_total > 0; }
  bool on_io_thread() const;
  void run_io();
  std::unique_ptr<connection> check_out(const endpoint_key& key);  // mu_ held
  void arm_sweep();                                                // on sweep_strand_
  void sweep();

  const client::options opts_;
  net::io_context ioc_;  // first: destroyed last, after everything that uses it
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  net::strand<net::io_context::executor_type> sweep_strand_;
  net::steady_timer sweep_timer_;
  std::vector<std::thread> threads_;

  mutable std::mutex mu_;  // guards everything below
  bool stopped_ = false;
  std::atomic<bool> stopping_{false};  // stopped_, readable without the lock
  std::map<endpoint_key, std::deque<std::unique_ptr<connection>>> idle_;  // per endpoint, oldest first
  size_t idle_count_ = 0;
  std::unordered_map<const exchange*, std::shared_ptr<exchange>> in_flight_;

  std::mutex join_mu_;  // held by the thread joining the io threads; never taken on an io thread
};

thread_local const engine* current_engine = nullptr;  // the engine whose io thread this is

// ---------------------------------------------------------------------------
// One request/response exchange. Every member is touched only on the strand `ex_`
// (its connection's), so none needs a lock; `finished_` makes the ending (a
// response, an error, the deadline, stop()) happen exactly once.
class exchange : public std::enable_shared_from_this<exchange> {
public:
  exchange(engine& owner, net::any_io_executor ex, endpoint_key key, client_request req, wire_request wire,
           std::string host_header, callback done, std::unique_ptr<connection> pooled)
    : owner_(owner), ex_(std::move(ex)), key_(std::move(key)), req_(std::move(req)), wire_(std::move(wire)),
      host_header_(std::move(host_header)), done_(std::move(done)), conn_(std::move(pooled)),
      reused_(conn_ != nullptr), resolve_timer_(ex_), started_(clock::now()),
      deadline_(started_ + std::max(req_.timeout, std::chrono::milliseconds::zero())) {}

  const net::any_io_executor& executor() const { return ex_; }

  void start() {
    if (finished_)
      return;
    if (conn_)
      write();
    else
      connect();
  }

  /// stop(): end now with "stopped"; pending operations complete later, aborted, and find us finished.
  void cancel() { finish_error(client_error::stopped); }

private:
  void connect() {
    if (clock::now() >= deadline_)
      return finish_error(client_error::timeout);
    conn_ = std::make_unique<connection>(ex_);
    error_code ec;
    auto address = net::ip::make_address(strip_brackets(req_.host), ec);
    if (!ec) {  // numeric: no DNS
      conn_->stream.expires_at(deadline_);
      conn_->stream.async_connect(tcp::endpoint{address, req_.port},
                                  [self = shared_from_this()](error_code e) { self->on_connect(e); });
      return;
    }
    // tcp_stream's deadline covers connect, write and read but not the resolver,
    // which gets its own timer on the same deadline.
    resolver_.emplace(ex_);
    resolve_timer_.expires_at(deadline_);
    resolve_timer_.async_wait([self = shared_from_this()](error_code e) {
      if (!e)
        self->on_resolve_timeout();
    });
    resolver_->async_resolve(req_.host, std::to_string(req_.port), tcp::resolver::numeric_service,
                             [self = shared_from_this()](error_code e, tcp::resolver::results_type results) {
                               self->on_resolve(e, std::move(results));
                             });
  }

  void on_resolve_timeout() {
    if (finished_)
      return;
    finish_error(client_error::timeout);  // getaddrinfo cannot be interrupted; its answer is ignored
  }

  void on_resolve(error_code ec, tcp::resolver::results_type results) {
    resolve_timer_.cancel();
    if (finished_)
      return;
    if (ec)
      return finish_error(std::string{client_error::resolve_failed} + ec.message());
    conn_->stream.expires_at(deadline_);
    conn_->stream.async_connect(results, [self = shared_from_this()](error_code e, const tcp::endpoint&) {
      self->on_connect(e);
    });
  }

  void on_connect(error_code ec) {
    if (finished_)
      return;
    if (ec)  // a fresh connection: nothing to retry
      return finish_error(describe(ec));
    error_code ignored;
    conn_->stream.socket().set_option(tcp::no_delay(true), ignored);  // one small request, one answer
    write();
  }

  void write() {
    conn_->stream.expires_at(deadline_);
    bhttp::async_write(conn_->stream, wire_, [self = shared_from_this()](error_code e, size_t) { self->on_write(e); });
  }

  void on_write(error_code ec) {
    if (finished_)
      return;
    if (ec)
      return fail_before_response(ec);
    read();
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(owner_.options().max_response_body);
    parser_->header_limit(static_cast<std::uint32_t>(
      std::min<size_t>(owner_.options().max_response_header, std::numeric_limits<std::uint32_t>::max())));
    parser_->skip(req_.method == "HEAD");
    conn_->stream.expires_at(deadline_);
    bhttp::async_read(conn_->stream, buffer_, *parser_,
                      [self = shared_from_this()](error_code e, size_t) { self->on_read(e); });
  }

  void on_read(error_code ec) {
    if (finished_)
      return;
    if (ec) {
      bool response_started = got_interim_ || parser_->got_some() || buffer_.size() > 0;
      if (!response_started)
        return fail_before_response(ec);
      return finish_error(describe(ec));
    }
    auto& msg = parser_->get();
    int status = msg.result_int();
    if (status >= 100 && status < 200 && status != 101) {  // interim (e.g. 100 Continue): the final one follows
      got_interim_ = true;
      return read();
    }
    client_response res;
    res.ok = true;
    res.status = status;
    for (const auto& field : msg)
      res.headers.emplace_back(std::string{field.name_string()}, std::string{field.value()});
    res.body = std::move(msg.body());
    // Reusable only when the server keeps it open (Connection: close, HTTP/1.0
    // without keep-alive and a read-until-EOF body all say no) and nothing
    // unexpected followed the response.
    bool reusable = parser_->keep_alive() && !parser_->need_eof() && buffer_.size() == 0 && status != 101;
    finished_ = true;
    if (reusable) {
      conn_->stream.expires_never();
      conn_->idle_since = clock::now();
      owner_.check_in(key_, std::move(conn_));  // before the callback: a request it sends may reuse it
    } else {
      close_connection();
    }
    complete(std::move(res));
  }

  // The retry-once rule. A pooled connection may have been closed by the server
  // while it sat idle (its keep-alive timeout, a restart). check_out() peeks at it
  // first, but cannot close the window: the server's FIN can cross our request on
  // the wire. In that race the server never read the request, so no handler ran
  // and sending it again on a fresh connection does not repeat it. We therefore
  // retry when ALL of these hold:
  //  - the connection was reused: a fresh one has no idle race, its failure is real;
  //  - the connection went away (EOF, reset, broken pipe), not a timeout or a bad answer;
  //  - not one byte of a response arrived: once the server answers, it has
  //    handled the request, and the outcome is the caller's to judge;
  //  - we have not retried yet, and the deadline has not passed (it is not renewed).
  // What this cannot tell apart: a server that read the request and then dropped
  // the connection without a byte (a crashing handler). For zooid that is harmless:
  // a repeated POST answers 409 "already exists" (relayhost then PATCHes), PATCH is
  // an idempotent merge, a repeated DELETE answers 404.
  void fail_before_response(error_code ec) {
    if (reused_ && !retried_ && is_connection_loss(ec) && !owner_.stopping() && clock::now() < deadline_) {
      retried_ = true;
      reused_ = false;
      close_connection();
      buffer_.clear();
      parser_.reset();
      if (log::enabled(log::level::debug))
        log::debug("http client: pooled connection was closed, retrying on a new one",
                   {{"host", host_header_}, {"path", std::string{path_of(req_.target)}}});
      return connect();
    }
    finish_error(describe(ec));
  }

  void finish_error(std::string_view text) {
    if (finished_)
      return;
    finished_ = true;
    resolve_timer_.cancel();
    if (resolver_)
      resolver_->cancel();
    close_connection();
    complete(failure(text));
  }

  void close_connection() {
    if (!conn_)
      return;
    // Pending operations hold the stream's shared state; they complete aborted.
    conn_->stream.close();
    conn_.reset();
  }

  void complete(client_response res) {
    if (log::enabled(log::level::debug)) {
      auto ms = std::chrono::duration<double, std::milli>(clock::now() - started_).count();
      // Never headers or bodies (Authorization carries tokens), never the query.
      log::debug("http client", {{"method", req_.method},
                                 {"host", host_header_},
                                 {"path", std::string{path_of(req_.target)}},
                                 {"status", std::to_string(res.status)},
                                 {"ms", std::to_string(static_cast<long long>(ms))},
                                 {"error", res.error}});
    }
    owner_.forget(this);
    deliver(done_, std::move(res));
  }

  engine& owner_;
  net::any_io_executor ex_;
  endpoint_key key_;
  client_request req_;  // body moved into wire_
  wire_request wire_;   // kept whole: a retry writes it again
  std::string host_header_;
  callback done_;
  std::unique_ptr<connection> conn_;
  bool reused_;
  bool retried_ = false;
  bool got_interim_ = false;
  bool finished_ = false;
  std::optional<tcp::resolver> resolver_;
  net::steady_timer resolve_timer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
  clock::time_point started_;
  clock::time_point deadline_;
};

// ---------------------------------------------------------------------------

engine::engine(client::options opts)
  : opts_(std::move(opts)), ioc_(static_cast<int>(std::max<size_t>(1, opts_.io_threads))),
    sweep_strand_(net::make_strand(ioc_)), sweep_timer_(sweep_strand_) {}

engine::~engine() = default;

void engine::start(const std::shared_ptr<engine>& self) {
  work_.emplace(ioc_.get_executor());
  net::post(sweep_strand_, [this] { arm_sweep(); });
  auto n = std::max<size_t>(1, opts_.io_threads);
  threads_.reserve(n);
  // Each thread holds the engine: if the client is destroyed on an io thread,
  // the detached threads keep it alive until they leave run().
  for (size_t i = 0; i < n; ++i)
    threads_.emplace_back([self] { self->run_io(); });
}

void engine::run_io() {
  current_engine = this;
  pthread_setname_np(pthread_self(), io_thread_name);
  for (;;) {
    try {
      ioc_.run();
      return;
    } catch (const std::exception& e) {
      log::error("http client: unexpected exception on an io thread", {{"what", e.what()}});
    } catch (...) {
      log::error("http client: unexpected exception on an io thread");
    }
  }
}

bool engine::on_io_thread() const {
  return current_engine == this;
}

void engine::send(client_request req, callback done) {
  if (!done)
    done = [](client_response) {};
  wire_request wire;
  std::string host_header;
  auto bad = build_wire_request(req, wire, host_header);
  endpoint_key key{req.host, req.port};

  std::unique_lock<std::mutex> lock{mu_};
  if (stopped_) {
    lock.unlock();
    deliver(done, failure(client_error::stopped));
    return;
  }
  // Posting under the lock: stop() releases the work guard under it too, so
  // whatever is posted here runs before the io threads can leave run().
  if (bad) {
    net::post(ioc_, [done = std::move(done), text = std::move(*bad)]() mutable { deliver(done, failure(text)); });
    return;
  }
  auto pooled = check_out(key);
  auto ex = pooled ? pooled->stream.get_executor() : net::any_io_executor{net::make_strand(ioc_)};
  auto x = std::make_shared<exchange>(*this, ex, std::move(key), std::move(req), std::move(wire), std::move(host_header),
                                      std::move(done), std::move(pooled));
  in_flight_.emplace(x.get(), x);
  net::post(ex, [x] { x->start(); });
}

void engine::stop() {
  std::vector<std::unique_ptr<connection>> closing;
  {
    std::lock_guard<std::mutex> lock{mu_};
    if (!stopped_) {
      stopped_ = true;
      stopping_.store(true, std::memory_order_release);
      for (auto& [endpoint, conns] : idle_)
        for (auto& c : conns)
          closing.push_back(std::move(c));
      idle_.clear();
      idle_count_ = 0;
      for (auto& [ptr, x] : in_flight_)
        net::post(x->executor(), [x = x] { x->cancel(); });
      net::post(sweep_strand_, [this] { sweep_timer_.cancel(); });
      work_.reset();  // run() returns once the cancellations and callbacks above are done
    }
  }
  closing.clear();  // closes the idle sockets; no operation is pending on them
  // On an io thread (stop() inside a callback) joining would wait for ourselves.
  if (on_io_thread())
    return;
  std::lock_guard<std::mutex> join{join_mu_};
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
}

void engine::detach_threads_if_on_io_thread() {
  if (!on_io_thread())
    return;
  std::unique_lock<std::mutex> join{join_mu_, std::try_to_lock};
  if (!join.owns_lock())
    return;  // another thread is joining them
  for (auto& t : threads_)
    if (t.joinable())
      t.detach();
}

size_t engine::idle_connections() const {
  std::lock_guard<std::mutex> lock{mu_};
  return idle_count_;
}

std::unique_ptr<connection> engine::check_out(const endpoint_key& key) {
  auto it = idle_.find(key);
  if (it == idle_.end())
    return nullptr;
  auto& conns = it->second;
  auto now = clock::now();
  std::unique_ptr<connection> found;
  while (!conns.empty() && !found) {  // newest first: the likeliest to be alive
    auto c = std::move(conns.back());
    conns.pop_back();
    --idle_count_;
    if (now - c->idle_since < opts_.idle_keepalive && still_open(*c))
      found = std::move(c);
  }
  if (conns.empty())
    idle_.erase(it);
  return found;
}

void engine::check_in(const endpoint_key& key, std::unique_ptr<connection> conn) {
  std::unique_ptr<connection> evicted;
  std::lock_guard<std::mutex> lock{mu_};
  if (stopped_ || !pooling() || idle_count_ >= opts_.max_idle_total)
    return;  // `conn` closes on return
  auto& conns = idle_[key];
  if (conns.size() >= opts_.max_idle_per_endpoint) {
    evicted = std::move(conns.front());  // the oldest goes
    conns.pop_front();
    --idle_count_;
  }
  conns.push_back(std::move(conn));
  ++idle_count_;
}

void engine::forget(const exchange* x) {
  std::lock_guard<std::mutex> lock{mu_};
  in_flight_.erase(x);
}

void engine::arm_sweep() {
  // stop() sets stopping_ before it posts the timer's cancel to this strand, so an
  // arm that runs after that cancel sees it and the timer never outlives stop().
  if (!pooling() || stopping())
    return;
  // Half the keep-alive: an idle connection is closed at most 1.5 × idle_keepalive after its last use.
  auto half = std::chrono::duration_cast<std::chrono::milliseconds>(opts_.idle_keepalive) / 2;
  auto interval = std::max<clock::duration>(half, min_sweep_interval);
  sweep_timer_.expires_after(interval);
  sweep_timer_.async_wait([this](error_code ec) {
    if (ec)
      return;
    sweep();
    arm_sweep();
  });
}

void engine::sweep() {
  std::vector<std::unique_ptr<connection>> closing;
  {
    std::lock_guard<std::mutex> lock{mu_};
    auto now = clock::now();
    for (auto it = idle_.begin(); it != idle_.end();) {
      auto& conns = it->second;
      for (auto c = conns.begin(); c != conns.end();) {
        if (now - (*c)->idle_since >= opts_.idle_keepalive || !still_open(**c)) {
          closing.push_back(std::move(*c));
          c = conns.erase(c);
          --idle_count_;
        } else {
          ++c;
        }
      }
      it = conns.empty() ? idle_.erase(it) : std::next(it);
    }
  }
}

} // namespace client_detail

// ---------------------------------------------------------------------------

struct client::impl : client_detail::engine {
  using engine::engine;
};

client::client(options opts) : impl_(std::make_shared<impl>(std::move(opts))) {
  impl_->start(impl_);
}

client::~client() {
  impl_->stop();
  impl_->detach_threads_if_on_io_thread();
}

void client::send(client_request req, std::function<void(client_response)> done) {
  impl_->send(std::move(req), std::move(done));
}

void client::stop() {
  impl_->stop();
}

size_t client::idle_connections() const {
  return impl_->idle_connections();
}

} // namespace relayhost::http
