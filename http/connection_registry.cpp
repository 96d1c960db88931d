#include "http/connection_registry.hpp"

namespace relayhost::http {

bool connection_registry::add(const std::shared_ptr<session>& s) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (shutting_down_)
    return false;
  sessions_.emplace(s.get(), s);
  return true;
}

void connection_registry::remove(const session* s) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (sessions_.erase(s) > 0 && sessions_.empty())
    emptied_.notify_all();
}

std::vector<std::shared_ptr<session>> connection_registry::begin_shutdown() {
  std::lock_guard<std::mutex> guard{mutex_};
  shutting_down_ = true;
  return live_locked();
}

bool connection_registry::wait_until_empty(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock{mutex_};
  return emptied_.wait_until(lock, deadline, [this] { return sessions_.empty(); });
}

std::vector<std::shared_ptr<session>> connection_registry::live() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return live_locked();
}

size_t connection_registry::size() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return sessions_.size();
}

std::vector<std::shared_ptr<session>> connection_registry::live_locked() const {
  std::vector<std::shared_ptr<session>> out;
  out.reserve(sessions_.size());
  for (auto& [key, weak] : sessions_)
    if (auto s = weak.lock())
      out.push_back(std::move(s));
  return out;
}

} // namespace relayhost::http
