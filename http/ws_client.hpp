// The outbound websocket client (relayhost → Nostr relays): ws:// and wss://,
// asynchronous, callback-based, on its own io threads. Behind a pimpl, so CAF code
// includes this header without Beast or Asio.
//
// TLS is always verified: the system CA store (Debian's ca-certificates, or
// `ca_file`), SNI, and the host name checked against the certificate. A bad
// certificate is a failed connection whose reason starts with "tls: ", never a
// silently accepted one.
//
// Thread model: handlers run on a client io thread, never concurrently for one
// connection, and must not block (hand the data on, e.g. anon_send it to an actor).
// Flow control: after on_message the connection reads the next frame only once
// ack() was called, so a slow consumer holds at most `max_unacked` messages.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace relayhost::http {

/// Where to connect; the pool fills it from nostr::parse_relay_url.
struct ws_target {
  bool tls = false;
  std::string host;      // name or address (IPv6 without brackets)
  uint16_t port = 0;     // 0: 80 for ws, 443 for wss
  std::string target;    // path + query, "/" at least
  std::string url;       // for log lines and error texts only
};

struct ws_handlers {
  std::function<void()> on_open;                     // handshake done; send() may be used before too (queued)
  std::function<void(std::string)> on_message;       // one text (or binary) message
  std::function<void(std::string)> on_close;         // exactly once, with why ("closed by peer", "timeout: …", …)
};

/// One websocket. Every member is thread-safe and never blocks.
class ws_connection {
public:
  virtual ~ws_connection() = default;
  /// Queues a text message; dropped after close. Writes are sent in order.
  virtual void send(std::string text) = 0;
  /// The consumer has taken one message: the next may be read.
  virtual void ack() = 0;
  /// Starts a clean close; on_close follows (unless it already ran). Handlers are
  /// never called after on_close.
  virtual void close() = 0;
};

/// The reasons on_close is given start with one of these.
namespace ws_error {
inline constexpr const char* closed = "closed";                 // we closed it
inline constexpr const char* closed_by_peer = "closed by peer";  // close frame or EOF
inline constexpr const char* timeout = "timeout: ";               // connect, handshake, idle or ping
inline constexpr const char* tls = "tls: ";                       // certificate or TLS handshake
inline constexpr const char* too_large = "message too large";     // over max_message_bytes
inline constexpr const char* handshake = "handshake: ";           // HTTP upgrade refused (status…)
inline constexpr const char* resolve = "resolve failed: ";
inline constexpr const char* stopped = "stopped";                 // ws_client::stop()
inline constexpr const char* write_queue_full = "write queue full";
// Anything else is the system's text for the socket error (e.g. "Connection refused").
} // namespace ws_error

class ws_client {
public:
  struct options {
    size_t io_threads = 1;
    size_t max_message_bytes = 512 * 1024;          // a bigger message closes the connection
    std::chrono::milliseconds connect_timeout{10000};  // resolve + TCP + TLS + upgrade
    // Nothing received for ping_interval + ping_timeout closes the connection
    // ("timeout: idle"); a ping goes out at half that time, so a live peer's pong
    // keeps it open (Beast's keep-alive pings, which run while a read is pending).
    std::chrono::seconds ping_interval{30};
    std::chrono::seconds ping_timeout{20};
    size_t max_write_queue_bytes = 8 * 1024 * 1024;  // unsent bytes per connection; over: closed
    std::string ca_file;                             // a PEM file trusted besides the system store; "" none
    std::string user_agent = "relayhost";
  };

  ws_client() : ws_client(options{}) {}
  explicit ws_client(options);
  ~ws_client();  // calls stop()
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  /// Starts connecting at once; never blocks. on_close tells a failed connect.
  /// After stop(), on_close("stopped") is called before connect returns.
  /// The connection lives until it is closed (by either side, a timeout or stop());
  /// dropping the returned pointer does not close it.
  std::shared_ptr<ws_connection> connect(const ws_target& target, ws_handlers handlers);

  /// Closes every connection (on_close "stopped") and joins the io threads. Idempotent.
  void stop();

  /// Open connections right now (metrics, tests).
  size_t open_connections() const;

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

} // namespace relayhost::http
