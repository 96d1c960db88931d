#include "actors/zooid_actor.hpp"

#include <caf/all.hpp>

#include <nlohmann/json.hpp>

#include "actors/errc_caf.hpp"
#include "core/log.hpp"
#include "nostr/nip98.hpp"
#include "storage/tenant_store.hpp"

namespace relayhost {

namespace {

using self_ptr = instrumented_pointer<zooid_actor, zooid_state>;
using entry = zooid_state::entry;

// A POST answered "already exists" becomes a PATCH, a PATCH answered "not found"
// becomes a POST; an API that keeps flipping between them is treated as failing.
constexpr int max_hops = 3;

void report(self_ptr self, const entry& e, sync_state state, std::optional<std::string> error) {
  zooid_sync_result r;
  r.relay_id = e.desired.id;
  r.tenant = e.desired.tenant;
  r.fingerprint = e.pushed_fingerprint;
  r.state = state;
  r.error = std::move(error);
  r.attempts = e.attempts + (state == sync_state::synced ? 1 : 0);
  r.at = self->state.env->now();
  r.provisioned = self->state.provisioned.count(e.desired.id) > 0;
  if (self->state.registry)
    self->send(self->state.registry, synced_atom::value, e.desired.tenant, std::move(r));
}

// O(1): called after every change of the queue (a walk over the entries here made
// each call O(n) and reconciling tens of thousands of relays O(n²)).
void update_queue_stats(self_ptr self) {
  self->state.stats.queued = self->state.entries.size();
  self->state.stats.in_flight = self->state.in_flight;
}

/// Makes the call for `e` now. The caller made sure a slot is free.
void start_call(self_ptr self, entry& e) {
  auto& env = *self->state.env;
  const auto& id = e.desired.id;
  bool create = self->state.provisioned.count(id) == 0;
  std::string body;
  if (create) {
    auto secret = env.box->open(e.desired.secret_enc, "relay-secret:" + id);
    if (!secret) {
      e.pushed_fingerprint = e.fingerprint;
      report(self, e, sync_state::failed, "the relay's secret cannot be decrypted with this platform key");
      ++self->state.stats.failed;
      self->state.entries.erase(std::string{id});  // a copy: `id` lives in the erased entry
      return;
    }
    body = zooid_create_body_json(e.desired, env.ctx, *secret);
    std::fill(secret->begin(), secret->end(), '\0');
  } else {
    body = zooid_desired_config_json(e.desired, env.ctx);
  }
  zooid_request req;
  req.method = create ? "POST" : "PATCH";
  req.path = env.base_path + "/relay/" + id;
  req.authorization = nostr::nip98_authorization(*env.platform_signer, env.url_base + req.path, req.method, body,
                                                 env.now());
  req.body = std::move(body);
  e.in_flight = true;  // start_call is only called for an entry not in flight
  ++self->state.in_flight;
  e.call_id = ++self->state.next_call;
  e.pushed_fingerprint = e.fingerprint;
  e.method = req.method;
  ++self->state.stats.calls;
  auto me = static_cast<zooid_actor>(self);
  env.transport(std::move(req), [me, id, call = e.call_id](zooid_answer a) {
    caf::anon_send(me, answer_atom::value, id, call, std::move(a));
  });
  update_queue_stats(self);
}

/// Calls zooid for `e` if a slot is free, else queues it (once) for the next one.
/// A queued entry keeps taking new desired states; it pushes the latest.
void push(self_ptr self, entry& e) {
  auto& st = self->state;
  if (e.waiting)
    return;
  if (st.in_flight < st.env->max_in_flight) {
    start_call(self, e);
    return;
  }
  e.waiting = true;
  st.ready.push_back(e.desired.id);
  update_queue_stats(self);
}

/// Gives free slots to the relays that waited longest.
void drain_ready(self_ptr self) {
  auto& st = self->state;
  while (st.in_flight < st.env->max_in_flight && !st.ready.empty()) {
    auto id = std::move(st.ready.front());
    st.ready.pop_front();
    auto it = st.entries.find(id);
    if (it == st.entries.end() || !it->second.waiting)
      continue;
    it->second.waiting = false;
    start_call(self, it->second);
  }
  update_queue_stats(self);
}

void want(self_ptr self, relay r) {
  auto& st = self->state;
  if (r.zooid_provisioned)
    st.provisioned.insert(r.id);
  auto fp = zooid_fingerprint(r, st.env->ctx);
  auto [it, fresh] = st.entries.try_emplace(r.id);
  auto& e = it->second;
  if (!fresh && e.fingerprint == fp)
    return;  // already queued or in flight
  e.desired = std::move(r);
  e.fingerprint = std::move(fp);
  e.attempts = 0;
  e.hops = 0;
  if (e.in_flight)
    return;  // pushed when the current call ends
  ++e.retry_gen;  // a pending backoff or confirmation timer is void: push now
  e.retry_pending = false;
  e.confirming = false;
  push(self, e);
}

void handle_answer(self_ptr self, const std::string& id, uint64_t call_id, zooid_answer& a) {
  auto& st = self->state;
  auto it = st.entries.find(id);
  if (it == st.entries.end() || !it->second.in_flight || it->second.call_id != call_id)
    return;
  auto& e = it->second;
  e.in_flight = false;
  --st.in_flight;
  auto now = st.env->now();
  st.env->health->record(a.status != 0, now);
  // No answer (timeout, connection lost): zooid may still apply that call later,
  // over a newer state. Until the window has passed, a success is confirmed by
  // pushing the latest state once more at its end.
  if (a.status == 0)
    e.settle_at = now + st.env->retry_max.count();
  auto outcome = classify_zooid_answer(e.method, a.status, a.body);
  if (outcome == zooid_outcome::ok && e.method == "POST")
    st.provisioned.insert(id);
  if (outcome == zooid_outcome::already_exists)
    st.provisioned.insert(id);
  if (outcome == zooid_outcome::not_found)
    st.provisioned.erase(id);
  auto error = zooid_error_text(a.status, a.body, a.error);
  if (e.fingerprint != e.pushed_fingerprint) {
    // The desired state changed meanwhile: whatever this answer was, push the new one.
    push(self, e);
    return;
  }
  if ((outcome == zooid_outcome::already_exists || outcome == zooid_outcome::not_found) && ++e.hops > max_hops)
    outcome = zooid_outcome::transient;
  switch (outcome) {
    case zooid_outcome::ok:
      report(self, e, sync_state::synced, std::nullopt);
      ++st.stats.synced;
      if (e.settle_at > now) {
        e.attempts = 0;
        e.hops = 0;
        e.retry_pending = true;
        e.confirming = true;
        self->delayed_send(self, std::chrono::seconds{e.settle_at - now}, retry_atom::value, id, ++e.retry_gen);
      } else {
        st.entries.erase(it);
      }
      break;
    case zooid_outcome::already_exists:
    case zooid_outcome::not_found:
      push(self, e);  // the same attempt, with the other method
      return;
    case zooid_outcome::transient:
      ++e.attempts;
      e.hops = 0;
      if (e.attempts >= st.env->retry_limit) {
        report(self, e, sync_state::failed, error);
        ++st.stats.failed;
        st.entries.erase(it);
      } else {
        report(self, e, sync_state::pending, error);
        ++st.stats.retries;
        e.retry_pending = true;
        e.confirming = false;
        auto delay = zooid_backoff(e.attempts, st.env->retry_base, st.env->retry_max);
        self->delayed_send(self, delay, retry_atom::value, id, ++e.retry_gen);
      }
      break;
    case zooid_outcome::rejected:
      ++e.attempts;
      log::warn("zooid rejected a relay config", {{"relay", id}, {"error", error}});
      report(self, e, sync_state::failed, error);
      ++st.stats.failed;
      st.entries.erase(it);
      break;
  }
  update_queue_stats(self);
}

void answer(self_ptr self, const std::string& id, uint64_t call_id, zooid_answer& a) {
  handle_answer(self, id, call_id, a);
  drain_ready(self);  // the slot this call held goes to the next relay in line
}

void reconcile(self_ptr self) {
  auto relays = std::make_shared<std::vector<relay>>();
  self->request(self->state.env->storage, std::chrono::seconds{60}, read_atom::value,
                storage_read{"relay.unsynced",
                             [relays](SQLite::Database& db) { *relays = storage::load_unsynced_relays(db); }})
    .then(
      [self, relays](bool) {
        if (!relays->empty())
          log::info("reconciling relays with zooid", {{"relays", std::to_string(relays->size())}});
        for (auto& r : *relays)
          want(self, std::move(r));
      },
      [](caf::error& err) { log::error("zooid reconciliation could not read relays", {{"error", caf::to_string(err)}}); });
}

void probe_tick(self_ptr self) {
  auto& st = self->state;
  self->delayed_send(self, st.env->probe_interval, probe_atom::value);
  auto now = st.env->now();
  if (st.probe_in_flight || now - st.env->health->at.load() < st.env->probe_after.count())
    return;  // a call answered lately: that outcome is fresh enough
  st.probe_in_flight = true;
  ++st.stats.probes;
  zooid_request req{"GET", st.env->base_path + "/", "", "", st.env->probe_timeout};
  st.env->transport(std::move(req), [self = caf::actor_cast<zooid_actor>(self)](zooid_answer a) {
    caf::anon_send(self, probe_atom::value, std::move(a));
  });
}

} // namespace

zooid_actor::behavior_type zooid_actor_impl(self_ptr self, std::shared_ptr<const zooid_env> env) {
  self->state.env = std::move(env);
  return {
    [self](sync_atom, relay& r) {
      if (!self->state.started) {
        self->state.early.push_back(std::move(r));
        return;
      }
      want(self, std::move(r));
    },
    [self](start_atom, tenant_registry_actor& registry) {
      self->state.registry = registry;
      self->state.started = true;
      auto early = std::move(self->state.early);
      for (auto& r : early)
        want(self, std::move(r));
      reconcile(self);
      if (self->state.env->probe_interval.count() > 0)
        probe_tick(self);
    },
    [self](probe_atom) { probe_tick(self); },
    [self](probe_atom, zooid_answer& a) {
      self->state.probe_in_flight = false;
      self->state.env->health->record(a.status != 0, self->state.env->now());
    },
    [self](answer_atom, std::string& id, uint64_t call_id, zooid_answer& a) { answer(self, id, call_id, a); },
    [self](retry_atom, std::string& id, uint64_t gen) {
      auto it = self->state.entries.find(id);
      if (it == self->state.entries.end() || it->second.retry_gen != gen || it->second.in_flight)
        return;
      it->second.retry_pending = false;
      if (std::exchange(it->second.confirming, false))
        ++self->state.stats.confirmations;
      push(self, it->second);
    },
    [self](stats_atom) { return self->state.stats; },
  };
}

} // namespace relayhost
