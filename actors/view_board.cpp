#include "actors/view_board.hpp"

#include <functional>

namespace relayhost {

view_board::shard& view_board::shard_of(const std::string& pubkey) {
  return shards_[std::hash<std::string>{}(pubkey) % shard_count];
}

void view_board::publish(const std::string& pubkey, uint64_t owner, std::shared_ptr<const tenant_view> view) {
  auto& s = shard_of(pubkey);
  std::shared_ptr<const tenant_view> old;  // released outside the lock
  std::lock_guard<std::mutex> guard{s.mu};
  auto& sl = s.views[pubkey];
  if (sl.owner != owner)
    sl.read = false;
  sl.owner = owner;
  old = std::exchange(sl.view, std::move(view));
}

void view_board::withdraw(const std::string& pubkey, uint64_t owner) {
  auto& s = shard_of(pubkey);
  std::shared_ptr<const tenant_view> old;
  std::lock_guard<std::mutex> guard{s.mu};
  auto it = s.views.find(pubkey);
  if (it == s.views.end() || it->second.owner != owner)
    return;
  old = std::move(it->second.view);
  s.views.erase(it);
}

std::shared_ptr<const tenant_view> view_board::find(const std::string& pubkey) {
  auto& s = shard_of(pubkey);
  std::lock_guard<std::mutex> guard{s.mu};
  auto it = s.views.find(pubkey);
  if (it == s.views.end())
    return nullptr;
  it->second.read = true;
  return it->second.view;
}

bool view_board::take_read_mark(const std::string& pubkey, uint64_t owner) {
  auto& s = shard_of(pubkey);
  std::lock_guard<std::mutex> guard{s.mu};
  auto it = s.views.find(pubkey);
  if (it == s.views.end() || it->second.owner != owner)
    return false;
  return std::exchange(it->second.read, false);
}

size_t view_board::size() const {
  size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard<std::mutex> guard{s.mu};
    n += s.views.size();
  }
  return n;
}

} // namespace relayhost
