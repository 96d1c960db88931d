// Per-request ids for X-Request-Id and the request log line: a random per-process
// prefix (so ids from two runs don't collide in aggregated logs) plus a counter.
// Pure; no Beast.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace relayhost::http {

class request_id_generator {
public:
  request_id_generator();

  /// "<8 hex prefix>-<hex counter>", e.g. "9f3a01c2-1b". Thread-safe, lock-free.
  std::string next();

private:
  uint32_t prefix_;
  std::atomic<uint64_t> counter_{0};
};

} // namespace relayhost::http
