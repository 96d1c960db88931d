// The outbound HTTP/1.1 client (relayhost → zooid's management API): asynchronous,
// callback-based, on its own io threads, with a keep-alive pool per (host, port).
// Behind a pimpl, so CAF code includes this header without Beast or Asio.
//
// Thread model: `io_threads` threads run one io_context; every exchange runs on a
// strand (the one its connection was created with). send() never blocks and never
// waits for the network; `done` runs on a client io thread, exactly once, and must
// not block (hand the result on, e.g. anon_send it to an actor).
//
// Plain HTTP only: zooid's API is on loopback or the internal network. TLS would
// wrap the connection's stream (see `connection` in client.cpp) and key the pool by
// scheme as well; it is deliberately not implemented.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relayhost::http {

struct client_request {
  std::string method;        // "POST", "PATCH", ... (sent as given; must be a token)
  std::string host;          // to connect to (name or address; numeric hosts skip DNS)
  uint16_t port = 80;
  std::string host_header;   // sent verbatim as Host (e.g. "127.0.0.1:8032"), never rewritten;
                             // empty: host, with ":port" unless the port is 80
  std::string target;        // path + optional query, e.g. "/relay/abc"
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Authorization, Content-Type …)
                             // Host, Content-Length, Transfer-Encoding, Connection, Expect are the
                             // client's own: passing one is an "invalid request: …" error
  std::string body;          // Content-Length is always sent for POST/PUT/PATCH and any non-empty body
  std::chrono::milliseconds timeout{10000};  // the whole exchange: resolve + connect + write + read
};

struct client_response {
  bool ok = false;           // a complete HTTP response was received (any status)
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // response headers, as received
  std::string error;         // when !ok: one of client_error below
  bool transport_error() const { return !ok; }
};

/// The texts of client_response::error, so callers compare against names.
namespace client_error {
inline constexpr std::string_view stopped = "stopped";                      // client::stop()
inline constexpr std::string_view timeout = "timeout";                      // request.timeout elapsed
inline constexpr std::string_view connection_refused = "connection refused";
inline constexpr std::string_view connection_reset = "connection reset";    // RST / broken pipe
inline constexpr std::string_view connection_closed = "connection closed";  // EOF before the response ended
inline constexpr std::string_view response_too_large = "response too large";  // body (or header block) over the limit
inline constexpr std::string_view malformed_response = "malformed response";
inline constexpr std::string_view resolve_failed = "resolve failed: ";      // prefix, then the resolver's message
inline constexpr std::string_view invalid_request = "invalid request: ";    // prefix; nothing was sent
// Anything else is the system's text for the socket error (e.g. "No route to host").
} // namespace client_error

class client {
public:
  struct options {
    size_t io_threads = 1;
    size_t max_idle_per_endpoint = 8;          // idle keep-alive connections kept per (host, port); 0: no reuse
    std::chrono::seconds idle_keepalive{30};   // an idle connection older than this is closed; 0: no reuse
    size_t max_response_body = 1 << 20;        // larger: "response too large"
    // Additions beyond the brief:
    size_t max_idle_total = 64;                // idle connections over all endpoints
    size_t max_response_header = 16 * 1024;    // the response's header block; larger: "response too large"
  };

  client() : client(options{}) {}
  explicit client(options);
  /// Calls stop(). When run on a client io thread (a callback destroying its
  /// client), the io threads are detached and finish on their own.
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Thread-safe; never blocks; `done` is called exactly once, on a client io
  /// thread. After stop(), `done` is called at once, on the caller's thread,
  /// with "stopped".
  void send(client_request req, std::function<void(client_response)> done);

  /// Cancels everything in flight (their callbacks get error "stopped"), closes
  /// idle connections and joins the io threads. Idempotent; callable from any
  /// thread. Called on a client io thread (inside a callback), it cannot wait for
  /// that thread: it cancels everything and returns; the other callbacks then run
  /// ("stopped") after the calling one returns, and the threads are joined by the
  /// destructor (or a later stop() from another thread).
  /// An in-progress DNS lookup cannot be interrupted: its callback still comes at
  /// once ("stopped"), but joining waits for getaddrinfo to return.
  void stop();

  /// Idle pooled connections right now (for tests and metrics).
  size_t idle_connections() const;

private:
  struct impl;
  std::shared_ptr<impl> impl_;  // shared with the io threads, see ~client
};

} // namespace relayhost::http
