// Where tenant actors publish their current tenant_view for the io threads.
// Only a tenant's actor publishes its view (under its actor id, the owner); reads
// take a reference to the latest one. A view is withdrawn when its actor ends, by
// owner, so an old actor's late withdrawal never removes its successor's view.
// Sharded by pubkey with a mutex per shard held only for a lookup and a pointer
// copy: two io threads reading do not meet.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "domain/tenant_view.hpp"

namespace relayhost {

class view_board {
public:
  /// Replaces the pubkey's view; `owner` identifies the publishing actor.
  void publish(const std::string& pubkey, uint64_t owner, std::shared_ptr<const tenant_view> view);

  /// Removes the pubkey's view if `owner` still owns it.
  void withdraw(const std::string& pubkey, uint64_t owner);

  /// The latest view, or null when no actor has one loaded. Marks the tenant as
  /// read, so its actor does not stop idle while it is read from here.
  std::shared_ptr<const tenant_view> find(const std::string& pubkey);

  /// Whether the pubkey's view was read since the last call (which clears it).
  bool take_read_mark(const std::string& pubkey, uint64_t owner);

  size_t size() const;

private:
  struct slot {
    uint64_t owner = 0;
    std::shared_ptr<const tenant_view> view;
    bool read = false;
  };
  struct shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, slot> views;
  };
  static constexpr size_t shard_count = 64;
  shard& shard_of(const std::string& pubkey);
  std::array<shard, shard_count> shards_;
};

} // namespace relayhost
