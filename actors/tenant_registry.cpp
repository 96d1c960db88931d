#include "actors/tenant_registry.hpp"

#include <caf/all.hpp>

#include "core/log.hpp"

namespace relayhost {

namespace {

using self_ptr = instrumented_pointer<tenant_registry_actor, tenant_registry_state>;

tenant_actor spawn_tenant(self_ptr self, const std::string& pubkey) {
  // Monitored: the registry learns of every end, normal or not, through its down
  // handler. (Not linked: a tenant's failure must not take the registry down.)
  auto t = self->spawn(tenant_actor_impl, pubkey, self->state.env, static_cast<tenant_registry_actor>(self));
  self->monitor(t);
  self->state.live.emplace(pubkey, t);
  self->state.owners.emplace(t.address(), pubkey);
  ++self->state.stats.spawned;
  self->state.stats.loaded = self->state.live.size();
  return t;
}

/// Hands `deliver` the tenant's actor: the live one, a new one, or, while the
/// previous one is stopping, the one spawned after it ended.
void route(self_ptr self, const std::string& pubkey, std::function<void(const tenant_actor&)> deliver) {
  if (auto w = self->state.stopping.find(pubkey); w != self->state.stopping.end()) {
    w->second.push_back(std::move(deliver));
    return;
  }
  auto it = self->state.live.find(pubkey);
  tenant_actor t = it != self->state.live.end() ? it->second : spawn_tenant(self, pubkey);
  deliver(t);
}

} // namespace

tenant_registry_actor::behavior_type tenant_registry_impl(self_ptr self, std::shared_ptr<const tenant_env> env) {
  self->state.env = std::move(env);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto owner = self->state.owners.find(dm.source);
    if (owner == self->state.owners.end())
      return;
    auto pubkey = owner->second;
    self->state.owners.erase(owner);
    if (auto it = self->state.live.find(pubkey); it != self->state.live.end() && it->second.address() == dm.source)
      self->state.live.erase(it);
    if (dm.reason) {
      ++self->state.stats.failed;
      log::warn("tenant actor failed; the next call loads it again", {{"error", caf::to_string(dm.reason)}});
    }
    if (auto w = self->state.stopping.find(pubkey); w != self->state.stopping.end()) {
      auto waiting = std::move(w->second);
      self->state.stopping.erase(w);
      for (auto& deliver : waiting)
        route(self, pubkey, std::move(deliver));
    }
    self->state.stats.loaded = self->state.live.size();
  });
  // Shutdown: the tenants go with the registry (their state is already persisted).
  self->set_exit_handler([self](caf::exit_msg& em) {
    for (auto& [addr, pubkey] : self->state.owners)
      if (auto t = caf::actor_cast<caf::actor>(addr))
        self->send_exit(t, em.reason);
    self->quit(em.reason);
  });
  return {
    [self](call_atom, std::string& pubkey, tenant_call& call) {
      route(self, pubkey, [self, c = std::move(call)](const tenant_actor& t) mutable {
        self->send(t, call_atom::value, std::move(c));
      });
    },
    [self](synced_atom, std::string& pubkey, zooid_sync_result& res) {
      route(self, pubkey, [self, r = std::move(res)](const tenant_actor& t) mutable {
        self->send(t, synced_atom::value, std::move(r));
      });
    },
    [self](idle_atom, std::string& pubkey, tenant_actor& who) {
      auto it = self->state.live.find(pubkey);
      if (it == self->state.live.end() || it->second != who)
        return;
      self->state.live.erase(it);
      self->state.stopping[pubkey];
      ++self->state.stats.stopped_idle;
      self->send(who, stop_atom::value);
    },
    [self](stats_atom) { return self->state.stats; },
    [self](find_atom, const std::string& pubkey) {
      auto it = self->state.live.find(pubkey);
      return it != self->state.live.end() ? it->second : tenant_actor{};
    },
  };
}

} // namespace relayhost
