// One connection, after Beast's advanced_server / http_server_async examples, with
// the API's limits and timeouts. Requests are served strictly one at a time: the
// next one is parsed only after the previous response is written, so pipelined
// requests are answered in order without a queue (their bytes wait in buffer_).
#include "http/session.hpp"

#include <cstdio>
#include <exception>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "core/log.hpp"
#include "http/server_context.hpp"

namespace relayhost::http {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

namespace {

// How much the keep-alive wait reads at once; the header read that follows grows
// the buffer as needed (bounded by header_limit).
constexpr size_t first_read_size = 4096;

// Draining a client's unread bytes after an error response stops after this many
// bytes (or close_linger, whichever comes first): enough for a client to finish
// sending a too-large body of the size clients really send, not an open pipe.
constexpr size_t max_linger_bytes = 1024 * 1024;
constexpr size_t drain_read_size = 16 * 1024;

constexpr std::string_view continue_response = "HTTP/1.1 100 Continue\r\n\r\n";

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::string endpoint_text(const tcp::endpoint& ep) {
  auto addr = ep.address();
  std::string host = addr.to_string();
  if (addr.is_v6())
    host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

// The method as logs and metrics see it: any token is a valid HTTP method, so an
// unknown one is folded into "OTHER" to keep metric label values bounded.
std::string method_label(std::string_view method) {
  static constexpr std::string_view known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  for (auto k : known)
    if (method == k)
      return std::string(k);
  return method.empty() ? "-" : "OTHER";
}

bool client_went_away(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message || ec == net::error::eof
         || ec == net::error::connection_reset || ec == net::error::operation_aborted
         || ec == beast::error::timeout || ec == net::error::broken_pipe;
}

} // namespace

session::session(tcp::socket&& socket, server_context& ctx)
  : stream_(std::move(socket)),
    strand_(stream_.get_executor()),
    handler_timer_(strand_),
    ctx_(ctx) {
  beast::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  remote_ = ec ? "-" : endpoint_text(ep);
  // One write per response, but no reason to let Nagle hold a pipelined answer.
  stream_.socket().set_option(tcp::no_delay(true), ec);
}

session::~session() {
  unregister();
}

void session::run() {
  net::dispatch(strand_, beast::bind_front_handler(&session::start, shared_from_this()));
}

void session::begin_shutdown() {
  net::post(strand_, beast::bind_front_handler(&session::on_shutdown, shared_from_this()));
}

void session::close_now() {
  if (phase_ == phase::closed)
    return;
  phase_ = phase::closed;
  awaiting_answer_ = false;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.close();
  unregister();
}

void session::start() {
  if (!ctx_.connections.add(shared_from_this())) {  // the server is stopping
    phase_ = phase::closed;
    stream_.close();
    return;
  }
  registered_ = true;
  await_request();
}

void session::await_request() {
  if (shutting_down_) {
    close();
    return;
  }
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(std::min<size_t>(ctx_.options.header_limit, UINT32_MAX)));
  parser_->body_limit(ctx_.options.body_limit);
  // The first request's header timeout runs from connect; a pipelined request's
  // bytes are already here; otherwise the connection is idle until a byte arrives.
  if (!served_one_ || buffer_.size() > 0) {
    read_header();
    return;
  }
  phase_ = phase::idle;
  stream_.expires_after(ctx_.options.idle_timeout);
  stream_.async_read_some(buffer_.prepare(first_read_size),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            self->buffer_.commit(n);
                            if (ec)
                              self->on_read_error(ec);
                            else
                              self->read_header();
                          });
}

void session::read_header() {
  phase_ = phase::header;
  // One deadline for the whole header block: a client dribbling bytes does not
  // extend it (the deadline is absolute across the reads async_read_header makes).
  stream_.expires_after(ctx_.options.header_timeout);
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
}

void session::on_header(beast::error_code ec) {
  if (ec) {
    on_read_error(ec);
    return;
  }
  started_ = std::chrono::steady_clock::now();
  // RFC 9112 §6.3: a request whose Transfer-Encoding does not end in chunked has no
  // knowable length (Beast would read its body to the end of the connection): 400
  // and close, so nothing after it can be taken for a request of its own.
  if (parser_->get().count(bhttp::field::transfer_encoding) && !parser_->chunked()) {
    phase_ = phase::header;
    reject(api_error::invalid_field("request", "malformed HTTP request: Transfer-Encoding must end with chunked"));
    return;
  }
  if (parser_->is_done()) {
    dispatch_request();
    return;
  }
  phase_ = phase::body;
  auto& req = parser_->get();
  if (req.version() >= 11 && beast::iequals(req[bhttp::field::expect], "100-continue")) {
    // curl and others wait for this before sending a body.
    stream_.expires_after(ctx_.options.write_timeout);
    net::async_write(stream_, net::buffer(continue_response.data(), continue_response.size()),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec)
                         self->close();
                       else
                         self->read_body();
                     });
    return;
  }
  read_body();
}

void session::read_body() {
  stream_.expires_after(ctx_.options.body_timeout);
  bhttp::async_read(stream_, buffer_, *parser_,
                    [self = shared_from_this()](beast::error_code ec, size_t) { self->on_body(ec); });
}

void session::on_body(beast::error_code ec) {
  if (ec) {
    on_read_error(ec);
    return;
  }
  dispatch_request();
}

void session::on_read_error(beast::error_code ec) {
  if (phase_ == phase::closed)
    return;
  if (ec == bhttp::error::header_limit) {
    reject({errc::headers_too_large,
            "the request header block exceeds " + std::to_string(ctx_.options.header_limit) + " bytes", {}});
    return;
  }
  if (ec == bhttp::error::body_limit) {
    reject({errc::payload_too_large,
            "the request body exceeds " + std::to_string(ctx_.options.body_limit) + " bytes", {}});
    return;
  }
  bool receiving = phase_ == phase::header || phase_ == phase::body;
  if (receiving && !client_went_away(ec) && ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
    reject(api_error::invalid_field("request", "malformed HTTP request: " + ec.message()));
    return;
  }
  if (ec == beast::error::timeout && log::enabled(log::level::debug))
    log::debug("http connection timed out",
               {{"phase", phase_ == phase::idle ? "idle" : phase_ == phase::header ? "header" : "body"},
                {"remote", remote_}});
  close();
}

void session::dispatch_request() {
  phase_ = phase::handling;
  auto& req = parser_->get();

  api_request ar;
  ar.method = std::string(req.method_string());
  ar.target = std::string(req.target());
  auto q = ar.target.find('?');
  ar.path = ar.target.substr(0, q);
  if (q != std::string::npos)
    ar.query = ar.target.substr(q + 1);
  ar.request_id = ctx_.request_ids.next();

  method_ = method_label(ar.method);
  request_id_ = ar.request_id;
  version_ = req.version();
  keep_alive_ = req.keep_alive();
  head_ = req.method() == bhttp::verb::head;
  route_ = "-";
  linger_after_write_ = false;

  if (log::enabled(log::level::debug))  // the raw path only at debug, never the query
    log::debug("http request received", {{"method", ar.method}, {"path", ar.path}, {"id", ar.request_id}});

  auto m = ctx_.routes->match(ar.method, ar.path);
  if (!m.templ.empty())
    route_ = m.templ;
  if (!m.matched) {
    auto res = api_response::error(*m.error);
    if (!m.allow.empty())
      res.headers.emplace_back("Allow", std::move(m.allow));
    write_response(std::move(res));
    return;
  }
  ar.route = std::string(m.templ);
  ar.params = std::move(m.params);
  ar.body = std::move(req.body());

  if (m.matched->auth == auth_mode::nip98) {
    auto url = ctx_.public_url + ar.target;
    auto outcome = ctx_.verifier.verify({req[bhttp::field::authorization], ar.method, url, ar.body}, unix_now());
    if (!outcome.ok) {
      auto res = api_response::error(errc::unauthorized, std::move(outcome.error));
      res.headers.emplace_back("WWW-Authenticate", "Nostr");
      write_response(std::move(res));
      return;
    }
    ar.pubkey = std::move(outcome.pubkey);
  }
  call_handler(*m.matched, std::move(ar));
}

void session::call_handler(const router::route& route, api_request&& req) {
  const uint64_t seq = ++seq_;
  awaiting_answer_ = true;
  handler_timer_.expires_after(ctx_.options.handler_timeout);
  handler_timer_.async_wait([self = shared_from_this(), seq](beast::error_code ec) {
    if (!ec)
      self->on_answer(seq, api_response::error(errc::unavailable, "the request timed out; try again"));
  });

  // Our copy lives until this function returns: if the handler drops its copy
  // without answering, the responder's last copy dies here and answers 503.
  responder reply{make_sink(seq)};
  try {
    route.handler(std::move(req), reply);
  } catch (const std::exception& e) {
    log::error("route handler threw", {{"route", route.templ}, {"id", request_id_}, {"what", e.what()}});
    reply(api_response::error(errc::internal, "internal error"));
  } catch (...) {
    log::error("route handler threw", {{"route", route.templ}, {"id", request_id_}});
    reply(api_response::error(errc::internal, "internal error"));
  }
}

responder::sink session::make_sink(uint64_t seq) {
  // Runs on whatever thread answers. It holds the session weakly (a responder kept
  // by an actor must not keep a closed connection alive) and posts, never runs
  // inline, so a handler answering synchronously does not re-enter the session.
  return [weak = weak_from_this(), gate = ctx_.gate, seq](api_response&& res) {
    gate->run_if_open([&] {
      if (auto self = weak.lock()) {
        auto strand = self->strand_;
        net::post(strand, [self = std::move(self), seq, res = std::move(res)]() mutable {
          self->on_answer(seq, std::move(res));
        });
      }
    });
  };
}

void session::on_answer(uint64_t seq, api_response&& res) {
  if (!awaiting_answer_ || seq != seq_)
    return;  // already answered (timeout, or a late reply): first answer wins
  awaiting_answer_ = false;
  handler_timer_.cancel();
  write_response(std::move(res));
}

void session::reject(const api_error& e) {
  started_ = std::chrono::steady_clock::now();
  method_ = method_label(parser_ ? parser_->get().method_string() : beast::string_view{});
  route_ = "-";
  request_id_ = ctx_.request_ids.next();
  version_ = 11;
  keep_alive_ = false;
  head_ = false;
  // The client may still be sending what we refused; read and drop it for a moment
  // so it sees this response rather than a reset.
  linger_after_write_ = true;
  write_response(api_response::error(e));
}

void session::write_response(api_response&& res) {
  phase_ = phase::writing;
  bool keep_alive = keep_alive_ && !shutting_down_ && !linger_after_write_;
  status_ = build_wire_response(response_, std::move(res), {version_, keep_alive, head_, request_id_});
  stream_.expires_after(ctx_.options.write_timeout);
  bhttp::async_write(stream_, response_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->on_write(ec); });
}

void session::on_write(beast::error_code ec) {
  finish_request();
  if (ec || phase_ == phase::closed) {
    close();
    return;
  }
  if (linger_after_write_) {
    linger_then_close();
    return;
  }
  bool keep_alive = response_.keep_alive();
  response_ = {};
  if (!keep_alive) {
    close();
    return;
  }
  served_one_ = true;
  await_request();
}

void session::finish_request() {
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
  if (ctx_.options.on_complete) {
    try {
      ctx_.options.on_complete({method_, route_, status_, ms});
    } catch (...) {
      // A metrics hook must not take a connection down.
    }
  }
  if (const auto lvl = ctx_.options.request_log_level; log::enabled(lvl)) {
    char duration[32];
    std::snprintf(duration, sizeof duration, "%.3f", ms);
    log::write(lvl, "http request",
               {{"method", method_},
                {"route", std::string(route_)},
                {"status", std::to_string(status_)},
                {"ms", duration},
                {"id", request_id_},
                {"remote", remote_}});
  }
}

void session::linger_then_close() {
  phase_ = phase::lingering;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec || shutting_down_) {
    close();
    return;
  }
  drained_ = 0;
  stream_.expires_after(ctx_.options.close_linger);
  drain();
}

void session::drain() {
  buffer_.consume(buffer_.size());
  stream_.async_read_some(buffer_.prepare(drain_read_size), [self = shared_from_this()](beast::error_code ec, size_t n) {
    self->drained_ += n;
    if (ec || self->drained_ > max_linger_bytes || self->phase_ != phase::lingering) {
      self->close();
      return;
    }
    self->drain();
  });
}

void session::on_shutdown() {
  shutting_down_ = true;
  // Nothing in flight: close now. A request being read, handled or written
  // finishes; its response says `Connection: close`.
  if (phase_ == phase::idle || phase_ == phase::header || phase_ == phase::lingering)
    close();
}

void session::close() {
  if (phase_ == phase::closed)
    return;
  phase_ = phase::closed;
  awaiting_answer_ = false;
  handler_timer_.cancel();
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.close();
  unregister();
}

void session::unregister() {
  if (registered_) {
    registered_ = false;
    ctx_.connections.remove(this);
  }
}

} // namespace relayhost::http
