#include "actors/nwc_client.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "core/log.hpp"
#include "core/metrics.hpp"

namespace relayhost {

namespace {

using self_ptr = instrumented_pointer<nwc_actor, nwc_client_state>;
using clock = std::chrono::steady_clock;

// -- metrics --------------------------------------------------------------------

constexpr std::array<const char*, 5> known_methods{"get_info", "make_invoice", "lookup_invoice", "pay_invoice", "other"};

std::string_view method_label(const std::string& m) {
  for (auto* k : known_methods)
    if (m == k)
      return k;
  return "other";
}

void record(const nwc_env& env, const std::string& method, const nwc_result& r, clock::time_point since) {
  static auto& requests = metrics::counter_family(
    "relayhost_nwc_requests_total",
    "NIP-47 requests by wallet (platform/tenant), method and outcome (ok, wallet_error, unknown, not_sent).",
    {"wallet", "method", "outcome"});
  static auto& latency = metrics::histogram_family(
    "relayhost_nwc_request_duration_seconds",
    "Seconds from a NIP-47 request being queued to its outcome, by wallet and method.", {"wallet", "method"},
    {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120});
  requests.with({env.wallet_kind, method_label(method), to_string(r.kind)}).inc();
  latency.with({env.wallet_kind, method_label(method)})
    .observe(std::chrono::duration<double>(clock::now() - since).count());
}

metrics::counter& ignored_counter(const std::string& wallet_kind, std::string_view reason) {
  static auto& ignored = metrics::counter_family(
    "relayhost_nwc_responses_ignored_total",
    "Events on a NIP-47 response subscription that were not trusted (wrong author, e tag, signature, "
    "encryption or result_type), by wallet.",
    {"wallet"});
  (void)reason;
  return ignored.with({wallet_kind});
}

// -- helpers --------------------------------------------------------------------

const nwc_env& env_of(self_ptr self) {
  return *self->state.env;
}

void pump(self_ptr self);

void finish(self_ptr self, uint64_t seq, nwc_result r) {
  auto& st = self->state;
  auto it = st.flying.find(seq);
  if (it == st.flying.end())
    return;
  auto f = std::move(it->second);
  st.flying.erase(it);
  if (f.subscription) {
    st.by_subscription.erase(f.subscription);
    self->send(env_of(self).pool, unsub_atom::value, f.subscription);
  }
  r.request_id = f.event.id;
  switch (r.kind) {
    case nwc_result::ok: ++st.stats.ok; break;
    case nwc_result::wallet_error: ++st.stats.wallet_errors; break;
    case nwc_result::unknown: ++st.stats.unknown; break;
    case nwc_result::not_sent: ++st.stats.not_sent; break;
  }
  record(env_of(self), f.req.method, r, f.req.queued_at);
  if (r.kind == nwc_result::unknown)
    log::warn("wallet did not answer in time: the outcome is unknown",
              {{"wallet", st.uri.wallet_pubkey}, {"method", f.req.method}, {"request", r.request_id}});
  f.req.promise.deliver(std::move(r));
  pump(self);
}

/// Answers a request that never became an event.
void refuse(self_ptr self, nwc_client_state::pending& p, std::string why) {
  nwc_result r;
  r.kind = nwc_result::not_sent;
  r.message = std::move(why);
  ++self->state.stats.not_sent;
  record(env_of(self), p.method, r, p.queued_at);
  p.promise.deliver(std::move(r));
}

void refuse_queue(self_ptr self, const std::string& why) {
  auto queue = std::move(self->state.queue);
  self->state.queue.clear();
  for (auto& p : queue)
    refuse(self, p, why);
}

void read_info(self_ptr self) {
  auto& st = self->state;
  if (st.reading_info)
    return;
  st.reading_info = true;
  ++st.stats.info_reads;
  std::string filter = R"({"kinds":[13194],"authors":[")" + st.uri.wallet_pubkey + R"("],"limit":1})";
  auto t = std::chrono::duration_cast<caf::timespan>(env_of(self).info_timeout);
  self->request(env_of(self).pool, t * 2, query_atom::value, std::vector<std::string>{filter}, st.uri.relays, t)
    .then(
      [self](query_report& rep) {
        auto& st = self->state;
        st.reading_info = false;
        std::optional<nostr::nwc_info> best;
        int64_t best_at = -1;
        for (auto& ev : rep.events) {
          auto info = nostr::parse_nwc_info(ev, st.uri.wallet_pubkey);
          if (info && ev.created_at > best_at) {
            best = std::move(info);
            best_at = ev.created_at;
          }
        }
        if (best) {
          st.info = std::move(best);
          st.info_at = env_of(self).now();
          st.info_error.clear();
          pump(self);
          return;
        }
        bool any_answered = std::any_of(rep.relays.begin(), rep.relays.end(), [](const relay_query_result& r) {
          return r.outcome == query_outcome::eose || r.outcome == query_outcome::closed;
        });
        st.info_error = any_answered ? "the wallet has no info event (kind 13194) on its relays"
                                     : "the wallet's relays are unreachable";
        if (!rep.relays.empty() && !any_answered)
          st.info_error += " (" + rep.relays.front().relay + ": " + rep.relays.front().message + ")";
        if (st.info) {  // a stale info is better than none: keep using it
          st.info_at = env_of(self).now();
          pump(self);
          return;
        }
        refuse_queue(self, st.info_error);
      },
      [self](caf::error& err) {
        self->state.reading_info = false;
        refuse_queue(self, "reading the wallet's info failed: " + to_string(err));
      });
}

void send_request(self_ptr self, nwc_client_state::pending p) {
  auto& st = self->state;
  auto enc = st.info->chosen();
  if (!enc) {
    refuse(self, p, "the wallet offers no encryption relayhost speaks (nip44_v2, nip04)");
    return;
  }
  auto now = env_of(self).now();
  nwc_client_state::in_flight f;
  try {
    f.event = nostr::make_nwc_request(*st.key, st.uri.wallet_pubkey, p.method, p.params, *enc, now,
                                      now + env_of(self).timeout.count());
  } catch (const std::exception& e) {
    refuse(self, p, e.what());
    return;
  }
  const auto seq = p.seq;
  f.req = std::move(p);
  auto filter = R"({"kinds":[23195],"authors":[")" + st.uri.wallet_pubkey + R"("],"#e":[")" + f.event.id + R"("]})";
  st.flying.emplace(seq, std::move(f));
  auto t = std::chrono::duration_cast<caf::timespan>(env_of(self).timeout);
  self->delayed_send(self, t, deadline_atom::value, seq);
  auto subscriber = caf::actor_cast<pool_subscriber_actor>(self);
  // Subscribe first: a response that comes back before we listen would be lost.
  self->request(env_of(self).pool, t, subscribe_atom::value, std::vector<std::string>{filter}, st.uri.relays, subscriber)
    .then(
      [self, seq, t](uint64_t sub) {
        auto& st = self->state;
        auto it = st.flying.find(seq);
        if (it == st.flying.end()) {  // timed out meanwhile
          self->send(env_of(self).pool, unsub_atom::value, sub);
          return;
        }
        it->second.subscription = sub;
        st.by_subscription[sub] = seq;
        self->request(env_of(self).pool, t * 2, publish_atom::value, it->second.event, st.uri.relays, t)
          .then(
            [self, seq](publish_report& rep) {
              auto& st = self->state;
              auto it = st.flying.find(seq);
              if (it == st.flying.end())
                return;
              bool maybe = false;
              std::string why;
              for (auto& r : rep.relays) {
                if (r.outcome == publish_outcome::accepted || r.outcome == publish_outcome::timed_out ||
                    holds_event(r))
                  maybe = true;
                else if (why.empty())
                  why = r.relay + ": " + (r.message.empty() ? std::string(to_string(r.outcome)) : r.message);
              }
              if (maybe) {
                it->second.published = true;
                return;  // the answer, or the deadline, ends it
              }
              nwc_result r;
              r.kind = nwc_result::not_sent;
              r.message = "no relay took the request (" + why + ")";
              finish(self, seq, std::move(r));
            },
            [self, seq](caf::error& err) {
              // The pool did not answer in time: whether a relay took it is not known.
              auto& st = self->state;
              if (auto it = st.flying.find(seq); it != st.flying.end())
                it->second.published = true;
              log::warn("relay pool did not report a NIP-47 publication", {{"error", to_string(err)}});
            });
      },
      [self, seq](caf::error& err) {
        nwc_result r;
        r.kind = nwc_result::not_sent;
        r.message = "could not subscribe for the answer: " + to_string(err);
        finish(self, seq, std::move(r));
      });
}

void arm_resume(self_ptr self) {
  auto& st = self->state;
  if (st.pause_timer)
    return;
  st.pause_timer = true;
  auto wait = std::max<int64_t>(1, st.paused_until - env_of(self).now());
  self->delayed_send(self, std::chrono::seconds{wait}, retry_atom::value);
}

void pump(self_ptr self) {
  auto& st = self->state;
  if (st.queue.empty())
    return;
  if (!st.info || env_of(self).now() - st.info_at >= env_of(self).info_ttl.count()) {
    read_info(self);
    if (!st.info)
      return;  // requests wait for the first info
  }
  if (st.paused_until > env_of(self).now()) {
    arm_resume(self);
    return;
  }
  while (!st.queue.empty() && st.flying.size() < env_of(self).max_in_flight) {
    auto p = std::move(st.queue.front());
    st.queue.pop_front();
    send_request(self, std::move(p));
  }
}

void on_response(self_ptr self, uint64_t sub, const nostr::event& ev) {
  auto& st = self->state;
  auto s = st.by_subscription.find(sub);
  if (s == st.by_subscription.end())
    return;  // a late event of a finished request
  auto seq = s->second;
  auto it = st.flying.find(seq);
  if (it == st.flying.end())
    return;
  std::string why;
  auto resp = nostr::open_nwc_response(ev, *st.key, st.uri.wallet_pubkey, it->second.event.id, it->second.req.method,
                                       &why);
  if (!resp) {
    ++st.stats.ignored;
    ignored_counter(env_of(self).wallet_kind, why).inc();
    log::debug("ignored an event on a NIP-47 response subscription",
               {{"wallet", st.uri.wallet_pubkey}, {"event", ev.id}, {"why", why}});
    return;
  }
  nwc_result r;
  if (resp->error) {
    r.kind = nwc_result::wallet_error;
    r.code = nostr::to_string(*resp->error);
    r.message = resp->error_message;
    if (*resp->error == nostr::nwc_error_code::rate_limited) {
      st.pause = st.pause.count() == 0 ? env_of(self).rate_limit_pause
                                       : std::min(st.pause * 2, env_of(self).rate_limit_pause_max);
      st.paused_until = env_of(self).now() + st.pause.count();
      log::warn("wallet is rate limiting: pausing requests to it",
                {{"wallet", st.uri.wallet_pubkey}, {"seconds", std::to_string(st.pause.count())}});
    }
  } else {
    r.kind = nwc_result::ok;
    r.result_json = std::move(resp->result_json);
    st.pause = std::chrono::seconds{0};
  }
  finish(self, seq, std::move(r));
}

} // namespace

nwc_actor::behavior_type nwc_client_impl(self_ptr self, nostr::nwc_uri uri, std::shared_ptr<const nwc_env> env) {
  auto& st = self->state;
  st.env = std::move(env);
  st.key = nostr::secret_key::from_hex(uri.secret_hex);
  st.uri = std::move(uri);
  if (env_of(self).idle_quit.count() > 0)
    self->delayed_send(self, env_of(self).idle_quit, idle_atom::value, st.activity);
  return {
    [self](nwc_atom, std::string& method, std::string& params) -> caf::typed_response_promise<nwc_result> {
      auto& st = self->state;
      auto promise = self->make_response_promise<nwc_result>();
      ++st.stats.requests;
      ++st.activity;
      nwc_client_state::pending p{++st.next_seq, std::move(method), std::move(params), promise, clock::now()};
      if (!st.key) {
        refuse(self, p, "the connection's secret is not a valid key");
      } else if (st.queue.size() >= env_of(self).max_queued) {
        refuse(self, p, "too many requests waiting for this wallet");
      } else {
        st.queue.push_back(std::move(p));
        pump(self);
      }
      return promise;
    },
    [self](pool_event_atom, uint64_t sub, const std::string&, const nostr::event& ev) { on_response(self, sub, ev); },
    [self](deadline_atom, uint64_t seq) {
      auto& st = self->state;
      auto it = st.flying.find(seq);
      if (it == st.flying.end())
        return;
      nwc_result r;
      // Not published anywhere for sure (the pool never reported): still unknown,
      // since a relay may have taken it. Only a definite "nobody took it" is not_sent.
      r.kind = nwc_result::unknown;
      r.message = "no answer from the wallet within " + std::to_string(env_of(self).timeout.count()) + " s";
      finish(self, seq, std::move(r));
    },
    [self](retry_atom) {
      self->state.pause_timer = false;
      pump(self);
    },
    [self](idle_atom, uint64_t seen) {
      auto& st = self->state;
      if (seen == st.activity && st.queue.empty() && st.flying.empty() && !st.reading_info) {
        self->quit();
        return;
      }
      self->delayed_send(self, env_of(self).idle_quit, idle_atom::value, st.activity);
    },
    [self](stats_atom) {
      auto s = self->state.stats;
      s.queued = self->state.queue.size();
      s.in_flight = self->state.flying.size();
      return s;
    },
  };
}

} // namespace relayhost
