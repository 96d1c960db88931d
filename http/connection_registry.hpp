// The server's live connections, so stop() can tell each one to wind down and wait
// until they are gone. Internal to http/; no Beast. One lock per connection open
// and close, never per request.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace relayhost::http {

class session;

class connection_registry {
public:
  /// Adds a connection; false once shutdown began (the caller closes it).
  bool add(const std::shared_ptr<session>& s);

  /// Removes a connection (idempotent); wakes wait_until_empty.
  void remove(const session* s);

  /// Refuses new connections from now on and returns the live ones.
  std::vector<std::shared_ptr<session>> begin_shutdown();

  /// Blocks until no connection is left or the deadline passes; true when empty.
  bool wait_until_empty(std::chrono::steady_clock::time_point deadline);

  /// The connections still registered.
  std::vector<std::shared_ptr<session>> live() const;

  size_t size() const;

private:
  std::vector<std::shared_ptr<session>> live_locked() const;

  mutable std::mutex mutex_;
  std::condition_variable emptied_;
  bool shutting_down_ = false;
  std::unordered_map<const session*, std::weak_ptr<session>> sessions_;
};

} // namespace relayhost::http
