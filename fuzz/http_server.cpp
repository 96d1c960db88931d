// The HTTP request reader as relayhost runs it (issue 16): the real http::server
// (Beast's parser with relayhost's limits, the Transfer-Encoding rule, 100-continue,
// pipelining, keep-alive, the error responses and the linger after them) on
// loopback, sent the input as raw bytes on one connection that then half-closes.
//
// Invariants: the server answers with a sequence of complete HTTP/1.1 responses,
// each framed by its Content-Length (HEAD: headers only; 100 Continue: none),
// with a status the server can send; a response that says `Connection: close` is
// the last one (nothing after a rejected request is taken for a request of its
// own); the connection always ends after the client's half-close; the server is
// still accepting for the next input. The route handlers answer fixed bodies, so
// no input bytes appear in a response.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "fuzz/fuzz_support.hpp"
#include "fuzz/loopback.hpp"
#include "http/server.hpp"

using namespace relayhost;

namespace {

constexpr int wait_ms = 5000;
const std::string http11 = "HTTP/1.1 ";
const std::string http10 = "HTTP/1.0 ";

http::server& running_server() {
  static std::unique_ptr<http::server> s = [] {
    auto routes = std::make_shared<http::router>();
    auto fixed = [](http::api_request&&, http::responder r) { r(http::api_response::json(200, "{\"ok\":true}")); };
    routes->add("GET", "/ping", http::auth_mode::none, fixed);
    routes->add("POST", "/echo", http::auth_mode::none, [](http::api_request&& req, http::responder r) {
      r(http::api_response::json(200, "{\"bytes\":" + std::to_string(req.body.size()) + "}"));
    });
    routes->add("PUT", "/items/:id", http::auth_mode::none, fixed);
    routes->add("GET", "/tenant", http::auth_mode::nip98, fixed);
    http::server_options o;
    o.port = 0;
    o.io_threads = 1;
    o.body_limit = 4096;  // small, so 413 and 431 are reachable
    o.header_limit = 2048;
    o.header_timeout = std::chrono::seconds{2};
    o.idle_timeout = std::chrono::seconds{2};
    o.body_timeout = std::chrono::seconds{2};
    o.handler_timeout = std::chrono::seconds{2};
    o.close_linger = std::chrono::seconds{1};
    o.request_log_level = log::level::debug;
    auto srv = std::make_unique<http::server>(o, routes);
    auto err = srv->start();
    FUZZ_CHECK(!err);
    return srv;
  }();
  return *s;
}


std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool starts_at(const std::string& s, size_t at, const std::string& prefix) {
  return s.compare(at, prefix.size(), prefix) == 0;
}

bool response_at(const std::string& s, size_t at) {
  return starts_at(s, at, http11) || starts_at(s, at, http10);
}

/// What is left from `at` is the start of a status line cut short.
bool status_line_cut(const std::string& s, size_t at) {
  const size_t left = s.size() - at;
  return left < http11.size() && (starts_at(http11, 0, s.substr(at)) || starts_at(http10, 0, s.substr(at)));
}

/// Checks the framing of everything the server sent. After a reset (`cut`) the
/// last response may be incomplete.
void check_responses(const std::string& out, bool cut) {
  size_t at = 0;
  while (at < out.size()) {
    if (cut && status_line_cut(out, at))
      return;
    FUZZ_CHECK(response_at(out, at));
    auto end = out.find("\r\n\r\n", at);
    if (cut && end == std::string::npos)
      return;
    FUZZ_CHECK(end != std::string::npos);
    const auto head = lower(out.substr(at, end - at + 2));
    const bool v10 = starts_at(out, at, http10);
    const int status = std::atoi(head.c_str() + http11.size());
    FUZZ_CHECK(status >= 100 && status <= 599);
    const size_t body = end + 4;
    if (status == 100) {
      at = body;
      continue;
    }
    auto cl = head.find("\r\ncontent-length: ");
    FUZZ_CHECK(cl != std::string::npos);
    FUZZ_CHECK(head.find("\r\ntransfer-encoding:") == std::string::npos);
    const size_t n = std::strtoull(head.c_str() + cl + 18, nullptr, 10);
    // The body, or none (the answer to HEAD): whichever leaves a boundary right
    // after it — the end, the next status line, or (after a reset) the start of
    // one cut short.
    auto boundary = [&](size_t pos) {
      return pos == out.size() ||
             (pos < out.size() && (response_at(out, pos) || (cut && status_line_cut(out, pos))));
    };
    size_t next = 0;
    if (boundary(body + n))
      next = body + n;
    else if (boundary(body))
      next = body;
    else if (cut && body + n > out.size())
      return;
    else
      FUZZ_CHECK(false && "a response whose length does not frame it");
    const bool last = head.find("\r\nconnection: close\r\n") != std::string::npos ||
                      (v10 && head.find("\r\nconnection: keep-alive\r\n") == std::string::npos);
    if (last)
      FUZZ_CHECK(next == out.size());  // nothing is answered after a close
    at = next;
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& srv = running_server();
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  // About a thousand connections a second for minutes: each input comes from one
  // of 250 addresses 127.0.0.x, and closes with a reset (after the server's close)
  // so the harness leaves no TIME-WAIT behind, and ports never run out.
  static unsigned next_source = 0;
  sockaddr_in src{};
  src.sin_family = AF_INET;
  src.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + (next_source++ % 250));
  FUZZ_CHECK(::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) == 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(srv.port());
  if (!fuzz::connect_to(fd, reinterpret_cast<sockaddr*>(&a), sizeof a, wait_ms)) {
    std::fprintf(stderr, "connect from 127.0.0.%u: %s\n", 1 + (next_source - 1) % 250, std::strerror(errno));
    FUZZ_CHECK(false && "the server is still accepting");
  }
  // Send what the server will take, reading its answers meanwhile (a refused
  // request may stop it reading; a full pipe must not deadlock the harness).
  std::string out;
  bool cut = false;  // the server reset the connection
  char buf[8192];
  size_t sent = 0;
  while (sent < size) {
    const short ev = fuzz::wait_for(fd, POLLOUT | POLLIN, wait_ms);
    FUZZ_CHECK(ev != 0);
    if (ev & POLLIN) {
      auto n = fuzz::recv_some(fd, buf, sizeof buf);
      if (n <= 0) {
        cut = n < 0;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    if (ev & POLLOUT) {
      auto w = fuzz::send_some(fd, data + sent, size - sent);
      if (w <= 0)
        break;  // the server closed (after a refused request): fine
      sent += static_cast<size_t>(w);
    }
    if (ev & (POLLERR | POLLHUP))
      break;
  }
  ::shutdown(fd, SHUT_WR);
  for (;;) {
    FUZZ_CHECK(fuzz::readable(fd, wait_ms));  // the server ends the connection
    auto n = fuzz::recv_some(fd, buf, sizeof buf);
    if (n <= 0) {
      cut = cut || n < 0;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  linger no_wait{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &no_wait, sizeof no_wait);
  ::close(fd);
  check_responses(out, cut);
  return 0;
}
