// The websocket frame reader as relayhost runs it (issue 16): the real
// http::ws_client connects over loopback to a peer played by this target, which
// answers the upgrade and then sends the input's bytes as they are — frames of
// any opcode, length encoding, masking, fragmentation, UTF-8 or none, cut off
// anywhere — and then half-closes. Input byte 0: bit 0 clear, the peer sends a
// correct 101 response first (so the bytes are frames); set, the bytes are the
// whole answer to the upgrade request (the handshake reader is fuzzed too).
//
// Invariants: no message is longer than max_message_bytes; on_close comes exactly
// once, with a reason, and nothing after it; the connection always ends (a peer
// that sent everything and half-closed cannot keep it open).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "fuzz/fuzz_support.hpp"
#include "fuzz/loopback.hpp"
#include "http/ws_client.hpp"

using namespace relayhost;

namespace {

constexpr size_t max_message = 1024;  // small, so "too large" is reachable
constexpr int wait_ms = 5000;

struct peer_socket {
  int listener = -1;
  uint16_t port = 0;
  peer_socket() {
    listener = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    FUZZ_CHECK(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    FUZZ_CHECK(::listen(listener, 16) == 0);
    socklen_t len = sizeof a;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
};


void send_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    auto w = fuzz::send_some(fd, p, n);
    if (w <= 0)
      return;  // the client closed first (e.g. on a bad frame): fine
    p += w;
    n -= static_cast<size_t>(w);
  }
}

/// Sec-WebSocket-Accept for a client key (RFC 6455 §4.2.2).
std::string accept_for(const std::string& key) {
  auto in = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(in.data()), in.size(), digest);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n));
}

std::string header_value(const std::string& request, const std::string& name) {
  auto at = request.find(name + ": ");
  if (at == std::string::npos)
    return {};
  at += name.size() + 2;
  return request.substr(at, request.find("\r\n", at) - at);
}

struct observed {
  std::mutex mu;
  std::condition_variable cv;
  std::shared_ptr<http::ws_connection> conn;
  int closes = 0;
  bool message_after_close = false;
  std::string reason;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static peer_socket peer;
  static http::ws_client client = [] {
    http::ws_client::options o;
    o.max_message_bytes = max_message;
    o.connect_timeout = std::chrono::milliseconds{wait_ms};
    return http::ws_client(o);
  }();
  if (size == 0)
    return 0;
  const bool raw = data[0] & 1;
  auto bytes = fuzz::text(data + 1, size - 1);

  auto seen = std::make_shared<observed>();
  http::ws_handlers h;
  h.on_message = [seen](std::string m) {
    FUZZ_CHECK(m.size() <= max_message);
    std::lock_guard lock{seen->mu};
    if (seen->closes > 0)
      seen->message_after_close = true;
    if (seen->conn)
      seen->conn->ack();
  };
  h.on_close = [seen](std::string why) {
    std::lock_guard lock{seen->mu};
    ++seen->closes;
    seen->reason = std::move(why);
    seen->cv.notify_all();
  };
  http::ws_target t{false, "127.0.0.1", peer.port, "/", "ws://127.0.0.1/"};
  {
    auto c = client.connect(t, h);
    std::lock_guard lock{seen->mu};
    seen->conn = std::move(c);
  }

  // The peer: read the upgrade request, answer, send the input, half-close, drain.
  FUZZ_CHECK(fuzz::readable(peer.listener, wait_ms));
  int fd;
  do
    fd = ::accept(peer.listener, nullptr, nullptr);
  while (fd < 0 && errno == EINTR);
  FUZZ_CHECK(fd >= 0);
  std::string request;
  char buf[4096];
  while (request.find("\r\n\r\n") == std::string::npos && fuzz::readable(fd, wait_ms)) {
    auto n = fuzz::recv_some(fd, buf, sizeof buf);
    if (n <= 0)
      break;
    request.append(buf, static_cast<size_t>(n));
  }
  FUZZ_CHECK(request.rfind("GET / HTTP/1.1\r\n", 0) == 0);
  if (!raw) {
    auto answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Accept: " +
                  accept_for(header_value(request, "Sec-WebSocket-Key")) + "\r\n\r\n";
    send_all(fd, answer.data(), answer.size());
  }
  send_all(fd, bytes.data(), bytes.size());
  ::shutdown(fd, SHUT_WR);
  while (fuzz::readable(fd, wait_ms) && fuzz::recv_some(fd, buf, sizeof buf) > 0) {
  }
  // A reset, not a TIME-WAIT: hundreds of connections a second would otherwise
  // reuse ports still in TIME-WAIT, which stalls a connect for seconds.
  linger no_wait{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &no_wait, sizeof no_wait);
  ::close(fd);

  std::unique_lock lock{seen->mu};
  FUZZ_CHECK(seen->cv.wait_for(lock, std::chrono::milliseconds{wait_ms}, [&] { return seen->closes > 0; }));
  FUZZ_CHECK(!seen->reason.empty());
  seen->conn.reset();
  lock.unlock();
  // The previous input's connection, checked once more now: a late second
  // on_close or a message after it shows up here.
  static std::shared_ptr<observed> previous;
  if (previous) {
    std::lock_guard l{previous->mu};
    FUZZ_CHECK(previous->closes == 1);
    FUZZ_CHECK(!previous->message_after_close);
  }
  previous = seen;
  return 0;
}
