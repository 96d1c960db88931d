// The public HTTP listener: Beast on its own io threads, behind a pimpl so that
// app/ (CAF code) includes this header without pulling in Beast or Asio.
//
// Thread model: `io_threads` threads run one io_context; every connection has its
// own strand. Parsing, limits, NIP-98 verification and routing run on the io
// thread; the route handler is called there too and must not block: it hands the
// request on (e.g. to an actor) and answers later through the responder, whose
// answer is posted back to the connection's strand. An io thread never waits.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/log.hpp"
#include "http/router.hpp"

namespace relayhost::http {

/// What the server reports after each response (for metrics). The views are valid
/// only during the call. The callback runs on the io threads, concurrently: keep it
/// cheap and thread-safe. Every field has a bounded set of values (label-safe).
struct request_record {
  std::string_view method;  // GET HEAD POST PUT PATCH DELETE OPTIONS, "OTHER", or "-"
                            // when the request line never parsed
  std::string_view route;   // the route template; "-" when no template matched
  int status = 0;
  double duration_ms = 0;   // from the complete header block to the response written
};

struct server_options {
  std::string host = "127.0.0.1";
  uint16_t port = 3000;                // 0: an ephemeral port (see server::port())
  std::string public_url;              // NIP-98 `u` base; empty: http://host:port (bound port)
  size_t io_threads = 2;
  size_t body_limit = 64 * 1024;       // beyond: 413
  size_t header_limit = 16 * 1024;     // beyond: 431
  std::chrono::seconds header_timeout{10};  // the complete header block, from connect or first byte
  std::chrono::seconds idle_timeout{30};    // keep-alive wait for the next request's first byte
  std::chrono::seconds handler_timeout{15}; // no answer by then: 503
  std::chrono::seconds shutdown_grace{10};  // stop(): how long in-flight requests may finish
  int64_t nip98_max_skew = 60;
  // Additions beyond the brief, so every wait is bounded and named:
  std::chrono::seconds body_timeout{10};    // the complete body, after the header block
  std::chrono::seconds write_timeout{30};   // writing one response to a slow reader
  std::chrono::seconds close_linger{2};     // after an error response (413, 431, 400): keep
                                            // draining the client's unread bytes this long so
                                            // it reads the response instead of a TCP reset
  /// Called after each response is written (or failed to write); may be empty.
  std::function<void(const request_record&)> on_complete;
  /// Level of the one "http request" line per response. A listener polled every
  /// few seconds by a machine (the metrics scrape) uses debug, so its polls do not
  /// drown the public listener's lines at the default info level.
  log::level request_log_level = log::level::info;
};

class server {
public:
  server(server_options options, std::shared_ptr<const router> routes);
  /// Calls stop().
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds, listens and spawns the io threads. Returns an error message
  /// ("cannot listen on 127.0.0.1:3000: Address already in use") on failure.
  /// Call once.
  std::optional<std::string> start();

  /// The bound port (the ephemeral one when options.port was 0); 0 before start().
  uint16_t port() const;

  /// The base URL NIP-98 `u` tags are checked against (no trailing slash).
  const std::string& public_url() const;

  /// Stops accepting, closes idle connections at once, lets in-flight requests
  /// finish (their responses carry `Connection: close`) for at most shutdown_grace,
  /// then closes what is left and joins the io threads. Idempotent and thread-safe;
  /// call it from any thread that is NOT one of the server's io threads (e.g. the
  /// thread that waits for SIGTERM) — never from a route handler.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace relayhost::http
