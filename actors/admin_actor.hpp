// The admin API's actor: platform-wide reads (tenants, relays, audit) run as
// indexed queries on the storage actor; writes are forwarded to the owning
// tenant's actor, so each tenant keeps exactly one writer.
#pragma once

#include <memory>
#include <string>

#include <caf/timespan.hpp>

#include "actors/fwd.hpp"
#include "actors/instrumented.hpp"
#include "billing/clock.hpp"

namespace relayhost {

struct admin_env {
  std::string relay_domain;
  storage_actor storage;
  tenant_registry_actor registry;
  caf::timespan storage_timeout;
  std::shared_ptr<billing::billing_clock> clock;  // moved by POST /admin/clock (test clock only)
  billing_scheduler_actor scheduler;  // told when the clock moves (a pass at once); invalid: none
};

struct admin_state {
  static inline const char* name = "admin";
  std::shared_ptr<const admin_env> env;
};

admin_actor::behavior_type admin_actor_impl(instrumented_pointer<admin_actor, admin_state> self,
                                            std::shared_ptr<const admin_env> env);

} // namespace relayhost
