#include "actors/identity_publisher.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include <nlohmann/json.hpp>

#include "core/log.hpp"
#include "domain/outbox.hpp"
#include "nostr/relay_url.hpp"
#include "nostr/signer.hpp"

namespace relayhost {

namespace {

using self_ptr = instrumented_pointer<identity_actor, identity_state>;

void publish_round(self_ptr self) {
  auto& st = self->state;
  ++st.attempts;
  const auto gen = ++st.gen;  // this round's answers, and its timer
  for (size_t i = 0; i < st.events.size(); ++i) {
    auto& p = st.events[i];
    if (p.relays.empty())
      continue;
    std::vector<std::string> relays(p.relays.begin(), p.relays.end());
    self->request(st.env->pool, st.env->publish_timeout * 2, publish_atom::value, p.ev, relays, st.env->publish_timeout)
      .then(
        [self, i, gen](publish_report& report) {
          auto& st = self->state;
          if (gen != st.gen || i >= st.events.size())
            return;
          for (auto& r : report.relays)
            if (holds_event(r))
              st.events[i].relays.erase(r.relay);
            else
              log::warn("an indexer did not take a platform event",
                        {{"relay", r.relay}, {"kind", std::to_string(st.events[i].ev.kind)}, {"message", r.message}});
        },
        [](caf::error&) {});
  }
  // Look again after the round had its time: whoever still lacks an event gets it again.
  auto delay = st.env->retry_base;
  for (int i = 1; i < st.attempts && delay < st.env->retry_max; ++i)
    delay *= 2;
  delay = std::min(delay, st.env->retry_max);
  self->delayed_send(self, std::max<caf::timespan>(delay, st.env->publish_timeout * 2), retry_atom::value, gen);
}

} // namespace

std::vector<nostr::event> platform_identity_events(const platform_profile& p, const std::vector<std::string>& indexers,
                                                   int64_t now) {
  std::vector<nostr::event> out;
  nlohmann::json meta = nlohmann::json::object();
  meta["name"] = p.name.empty() ? std::string("relayhost") : p.name;
  if (!p.description.empty())
    meta["about"] = p.description;
  if (!p.picture.empty())
    meta["picture"] = p.picture;
  nostr::event profile;
  profile.kind = 0;
  profile.created_at = now;
  profile.content = meta.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out.push_back(std::move(profile));

  auto normalised = [](const std::vector<std::string>& urls) {
    std::vector<std::string> v;
    for (auto& u : urls)
      if (auto r = nostr::parse_relay_url(u); r && std::find(v.begin(), v.end(), r->normalized) == v.end())
        v.push_back(r->normalized);
    return v;
  };
  auto reads = normalised(p.messaging_relays);
  auto writes = normalised(indexers);
  nostr::event relays;
  relays.kind = 10002;
  relays.created_at = now;
  for (auto& r : reads)
    relays.tags.push_back(std::find(writes.begin(), writes.end(), r) != writes.end()
                            ? std::vector<std::string>{"r", r}
                            : std::vector<std::string>{"r", r, "read"});
  for (auto& w : writes)
    if (std::find(reads.begin(), reads.end(), w) == reads.end())
      relays.tags.push_back({"r", w, "write"});
  out.push_back(std::move(relays));

  if (!reads.empty()) {
    nostr::event inbox;
    inbox.kind = 10050;
    inbox.created_at = now;
    for (auto& r : reads)
      inbox.tags.push_back({"relay", r});
    out.push_back(std::move(inbox));
  }
  return out;
}

identity_actor::behavior_type identity_publisher_impl(self_ptr self, std::shared_ptr<const identity_env> env) {
  self->state.env = std::move(env);
  return {
    [self](start_atom) {
      auto& st = self->state;
      st.events.clear();
      for (auto& ev : platform_identity_events(st.env->profile, st.env->indexers, st.env->now())) {
        identity_state::pending p{st.env->platform_signer->sign(std::move(ev)), {}};
        for (auto& u : st.env->indexers)
          if (auto r = nostr::parse_relay_url(u))
            p.relays.insert(r->normalized);
        st.events.push_back(std::move(p));
      }
      if (st.env->profile.messaging_relays.empty())
        log::info("PLATFORM_MESSAGING_RELAYS is not set: no kind-10050 inbox list is published for the platform");
      st.attempts = 0;
      publish_round(self);
    },
    [self](retry_atom, uint64_t gen) {
      auto& st = self->state;
      if (gen != st.gen)
        return;
      bool left = std::any_of(st.events.begin(), st.events.end(), [](auto& p) { return !p.relays.empty(); });
      if (!left) {
        log::info("platform identity published to every indexer relay");
        return;
      }
      publish_round(self);
    },
  };
}

} // namespace relayhost
