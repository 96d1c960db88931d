// Socket helpers for the fuzz targets that talk to relayhost's Beast code over
// loopback (http_server, ws_frames). Every call survives EINTR: libFuzzer's
// -timeout watchdog is a SIGALRM every timeout/2 seconds, which interrupts a
// blocking poll or recv in the middle of an input.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>

namespace relayhost::fuzz {

/// poll() for `events` on one socket for up to `ms`: the revents, 0 on timeout.
inline short wait_for(int fd, short events, int ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds{ms};
  for (;;) {
    pollfd p{fd, events, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    int r = ::poll(&p, 1, static_cast<int>(left.count() > 0 ? left.count() : 0));
    if (r == 1)
      return p.revents;
    if (r == 0 || errno != EINTR)
      return 0;
  }
}

inline bool readable(int fd, int ms) { return wait_for(fd, POLLIN, ms) != 0; }

/// recv / send, retried on EINTR.
inline long recv_some(int fd, char* buf, size_t n) {
  long r;
  do
    r = ::recv(fd, buf, n, 0);
  while (r < 0 && errno == EINTR);
  return r;
}

inline long send_some(int fd, const void* buf, size_t n) {
  long r;
  do
    r = ::send(fd, buf, n, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return r;
}

/// connect(), surviving EINTR: an interrupted connect goes on in the background
/// (connect(2)), so wait until the socket is writable and take its SO_ERROR.
/// True when connected.
inline bool connect_to(int fd, const sockaddr* a, socklen_t len, int ms) {
  if (::connect(fd, a, len) == 0)
    return true;
  if (errno != EINTR)
    return false;
  if (!(wait_for(fd, POLLOUT, ms) & POLLOUT))
    return false;
  int err = 0;
  socklen_t n = sizeof err;
  return ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &n) == 0 && err == 0;
}

} // namespace relayhost::fuzz
