// The platform's identity on Nostr (billing.md "Platform identity at start"):
// kind 0 (PLATFORM_NAME, PLATFORM_DESCRIPTION, PLATFORM_PICTURE), kind 10002
// (its relays) and kind 10050 (PLATFORM_MESSAGING_RELAYS: where tenants' replies
// reach it), signed with the platform key and published to every indexer relay
// at start. A relay that does not take an event gets it again with backoff until
// it does; nothing here is ever fatal. The values come from the configuration,
// so a change is published by the next start (with a newer created_at, which
// replaces the old events: they are replaceable kinds).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "actors/fwd.hpp"
#include "actors/instrumented.hpp"

namespace relayhost {

namespace nostr {
class signer;
}

struct platform_profile {
  std::string name, description, picture;
  std::vector<std::string> messaging_relays;  // PLATFORM_MESSAGING_RELAYS
};

/// The unsigned events (kind 0, 10002, and 10050 when there are messaging
/// relays), pure. 10002 lists the messaging relays as "read" (where the platform
/// reads what is sent to it) and the indexers as "write" (where it publishes);
/// a relay in both is listed once without a marker.
std::vector<nostr::event> platform_identity_events(const platform_profile& p, const std::vector<std::string>& indexers,
                                                   int64_t now);

struct identity_env {
  relay_pool_actor pool;
  std::shared_ptr<const nostr::signer> platform_signer;
  std::vector<std::string> indexers;
  platform_profile profile;
  std::function<int64_t()> now;  // real clock
  caf::timespan publish_timeout = std::chrono::seconds{15};
  std::chrono::seconds retry_base{30};
  std::chrono::seconds retry_max{3600};
};

struct identity_state {
  static inline const char* name = "identity_publisher";
  struct pending {
    nostr::event ev;
    std::set<std::string> relays;  // not holding it yet
  };
  std::shared_ptr<const identity_env> env;
  std::vector<pending> events;
  int attempts = 0;
  uint64_t gen = 0;
};

identity_actor::behavior_type identity_publisher_impl(instrumented_pointer<identity_actor, identity_state> self,
                                                      std::shared_ptr<const identity_env> env);

} // namespace relayhost
