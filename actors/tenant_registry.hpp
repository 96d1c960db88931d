// pubkey → tenant actor. Spawns a tenant's actor on first use (exactly one per
// pubkey, so concurrent first requests never load or create a tenant twice),
// stops actors that report idle, and replaces an actor that died: the next call
// gets a fresh actor that loads the persisted state.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <functional>

#include <caf/actor_addr.hpp>

#include "actors/fwd.hpp"
#include "actors/instrumented.hpp"
#include "actors/tenant_actor.hpp"

namespace relayhost {

struct tenant_registry_state {
  static inline const char* name = "tenant_registry";
  std::shared_ptr<const tenant_env> env;
  std::unordered_map<std::string, tenant_actor> live;
  // Pubkeys whose actor is stopping: their calls wait for it to end, so the next
  // actor loads only after every write of the previous one is committed.
  std::unordered_map<std::string, std::vector<std::function<void(const tenant_actor&)>>> stopping;
  std::unordered_map<caf::actor_addr, std::string> owners;
  registry_stats stats;
};

tenant_registry_actor::behavior_type
tenant_registry_impl(instrumented_pointer<tenant_registry_actor, tenant_registry_state> self,
                     std::shared_ptr<const tenant_env> env);

} // namespace relayhost
