#include "actors/relay_pool.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "core/log.hpp"
#include "nostr/relay_message.hpp"
#include "nostr/relay_url.hpp"
#include "nostr/signer.hpp"

namespace relayhost {

namespace {

using self_ptr = instrumented_pointer<relay_pool_actor, relay_pool_state>;
using conn_state = relay_pool_state::conn_state;
using connection = relay_pool_state::connection;
using clock = std::chrono::steady_clock;

constexpr auto sweep_interval = std::chrono::seconds{30};

/// The actor system's clock (simulated in tests), so idle and stability rules
/// follow the same time as the timers.
clock::time_point now_of(self_ptr self) {
  return self->clock().now();
}

relay_pool_counters& counters(self_ptr self) {
  return *self->state.env->counters;
}

void set_state(self_ptr self, connection& c, conn_state to) {
  auto gauge = [&](conn_state s) -> std::atomic<int64_t>* {
    switch (s) {
      case conn_state::connecting: return &counters(self).connecting;
      case conn_state::open: return &counters(self).open;
      case conn_state::backoff: return &counters(self).backoff;
      case conn_state::idle: return nullptr;
    }
    return nullptr;
  };
  if (auto* g = gauge(c.state))
    --*g;
  c.state = to;
  if (auto* g = gauge(to))
    ++*g;
}

void arm_sweep(self_ptr self) {
  if (self->state.sweep_armed)
    return;
  self->state.sweep_armed = true;
  self->delayed_send(self, sweep_interval, sweep_atom::value);
}

/// The connection is wanted by something: an operation waiting on it or a live subscription.
bool has_users(const connection& c) {
  return !c.publishes.empty() || !c.subscriptions.empty() || !c.queued.empty();
}

void open_link(self_ptr self, connection& c);

/// Sends now if open, else queues (bounded) and makes sure a connection is coming.
/// False when the queue is full: the caller answers that relay `failed`.
bool send_to(self_ptr self, connection& c, std::string text) {
  c.last_used = now_of(self);
  if (c.state == conn_state::open && c.link) {
    c.link->send(std::move(text));
    return true;
  }
  if (c.queued.size() >= self->state.env->max_queued_per_relay)
    return false;
  c.queued.push_back(std::move(text));
  if (c.state == conn_state::idle) {
    auto now = now_of(self);
    if (c.failures > 0 && now < c.retry_at) {
      // It failed a moment ago: wait out its backoff rather than hammer it.
      set_state(self, c, conn_state::backoff);
      self->delayed_send(self, c.retry_at - now, reconnect_atom::value, c.url, ++c.reconnect_gen);
    } else {
      open_link(self, c);
    }
  }
  return true;
}

/// The entry of a relay URL, created on first use. nullptr when the URL is not a
/// ws(s):// URL (`error` says why).
connection* connection_for(self_ptr self, const std::string& url, std::string* error) {
  auto parsed = nostr::parse_relay_url(url, error);
  if (!parsed)
    return nullptr;
  auto& conns = self->state.connections;
  auto it = conns.find(parsed->normalized);
  if (it == conns.end()) {
    connection c;
    c.url = parsed->normalized;
    c.target.tls = parsed->tls;
    c.target.host = parsed->host;
    c.target.port = parsed->port;
    c.target.target = parsed->target;
    c.target.url = parsed->normalized;
    it = conns.emplace(c.url, std::move(c)).first;
    arm_sweep(self);
  }
  return &it->second;
}

/// Normalised, deduplicated, bounded. Bad URLs come back in `bad` with the reason.
std::vector<connection*> connections_for(self_ptr self, const std::vector<std::string>& urls,
                                         std::vector<std::pair<std::string, std::string>>& bad) {
  std::vector<connection*> out;
  std::set<std::string> seen;
  for (auto& u : urls) {
    if (out.size() >= self->state.env->max_relays_per_call) {
      bad.emplace_back(u, "too many relays in one call");
      continue;
    }
    std::string error;
    auto* c = connection_for(self, u, &error);
    if (!c) {
      bad.emplace_back(u, "invalid relay URL: " + error);
      continue;
    }
    if (seen.insert(c->url).second)
      out.push_back(c);
  }
  return out;
}

// -- publish -----------------------------------------------------------------------

void finish_publish_relay(self_ptr self, uint64_t op_id, const std::string& url, publish_outcome outcome,
                          std::string message) {
  auto it = self->state.publishes.find(op_id);
  if (it == self->state.publishes.end() || !it->second.waiting.erase(url))
    return;
  auto& op = it->second;
  switch (outcome) {
    case publish_outcome::accepted: ++counters(self).publish_accepted; break;
    case publish_outcome::rejected: ++counters(self).publish_rejected; break;
    case publish_outcome::timed_out: ++counters(self).publish_timed_out; break;
    case publish_outcome::failed: ++counters(self).publish_failed; break;
  }
  op.results[url] = relay_publish_result{url, outcome, std::move(message)};
  auto cit = self->state.connections.find(url);
  if (cit != self->state.connections.end()) {
    auto& waiters = cit->second.publishes[op.event_id];
    waiters.erase(std::remove(waiters.begin(), waiters.end(), op_id), waiters.end());
    if (waiters.empty()) {
      cit->second.publishes.erase(op.event_id);
      // Nobody waits for it any more: a copy still queued for a connection is not sent.
      auto& q = cit->second.queued;
      q.erase(std::remove(q.begin(), q.end(), op.message), q.end());
    }
  }
  if (!op.waiting.empty())
    return;
  publish_report report;
  for (auto& [u, r] : op.results)
    report.relays.push_back(std::move(r));
  op.promise.deliver(std::move(report));
  self->state.publishes.erase(it);
}

// -- queries and subscriptions -----------------------------------------------------

void finish_query_relay(self_ptr self, uint64_t op_id, const std::string& url, query_outcome outcome,
                        std::string message) {
  auto it = self->state.queries.find(op_id);
  if (it == self->state.queries.end() || !it->second.waiting.erase(url))
    return;
  auto& op = it->second;
  op.results[url] = relay_query_result{url, outcome, std::move(message)};
  auto cit = self->state.connections.find(url);
  if (cit != self->state.connections.end()) {
    auto& c = cit->second;
    c.subscriptions.erase(op.sub_id);
    if (outcome == query_outcome::eose || outcome == query_outcome::timed_out) {
      if (c.state == conn_state::open && c.link)
        c.link->send(nostr::client_close_message(op.sub_id));
      else  // never sent: take the REQ back out of the queue
        c.queued.erase(std::remove(c.queued.begin(), c.queued.end(), op.req), c.queued.end());
    }
  }
  if (!op.waiting.empty())
    return;
  query_report report;
  report.events.reserve(op.events.size());
  for (auto& [id, ev] : op.events)
    report.events.push_back(std::move(ev));
  std::sort(report.events.begin(), report.events.end(),
            [](const nostr::event& a, const nostr::event& b) { return a.created_at > b.created_at; });
  for (auto& [u, r] : op.results)
    report.relays.push_back(std::move(r));
  op.promise.deliver(std::move(report));
  self->state.queries.erase(it);
}

/// A relay's connection ended (or could not be made): everything waiting on it
/// learns why; live subscriptions stay and are sent again on the next connection.
void fail_waiting(self_ptr self, connection& c, const std::string& reason) {
  auto pubs = c.publishes;
  for (auto& [event_id, ops] : pubs)
    for (auto op : ops)
      finish_publish_relay(self, op, c.url, publish_outcome::failed, reason);
  auto subs = c.subscriptions;
  for (auto& [sub_id, op] : subs)
    if (self->state.queries.count(op))
      finish_query_relay(self, op, c.url, query_outcome::failed, reason);
  c.queued.clear();
  c.after_auth.clear();
}

bool has_live_subs(const connection& c, const relay_pool_state& st) {
  for (auto& [sub_id, op] : c.subscriptions)
    if (st.subs.count(op))
      return true;
  return false;
}

std::chrono::milliseconds backoff_delay(self_ptr self, int failures) {
  auto& env = *self->state.env;
  auto delay = env.reconnect_base;
  for (int i = 1; i < failures && delay < env.reconnect_max; ++i)
    delay *= 2;
  delay = std::min(delay, env.reconnect_max);
  // Jitter: 50–100 % of the delay, so relays that failed together do not return together.
  std::uniform_int_distribution<int64_t> half(delay.count() / 2, delay.count());
  return std::chrono::milliseconds{half(self->state.rng)};
}

void link_closed(self_ptr self, connection& c, const std::string& reason) {
  auto was_open = c.state == conn_state::open;
  if (was_open && now_of(self) - c.opened_at >= self->state.env->stable_after)
    c.failures = 0;
  ++c.failures;
  ++counters(self).disconnects;
  self->state.link_urls.erase(c.link_id);
  c.link.reset();
  c.link_id = 0;
  c.last_error = reason;
  c.authed = false;
  c.challenge.clear();
  c.auth_event_id.clear();
  log::debug("relay connection closed", {{"relay", c.url}, {"reason", reason}});
  fail_waiting(self, c, reason);
  auto delay = backoff_delay(self, c.failures);
  c.retry_at = now_of(self) + delay;
  if (has_live_subs(c, self->state)) {
    set_state(self, c, conn_state::backoff);
    self->delayed_send(self, delay, reconnect_atom::value, c.url, ++c.reconnect_gen);
  } else {
    set_state(self, c, conn_state::idle);
  }
}

void open_link(self_ptr self, connection& c) {
  set_state(self, c, conn_state::connecting);
  ++counters(self).connects;
  auto link_id = ++self->state.next_link;
  c.link_id = link_id;
  self->state.link_urls[link_id] = c.url;
  auto me = caf::actor_cast<relay_pool_actor>(self);
  http::ws_handlers h;
  h.on_open = [me, link_id] { caf::anon_send(me, ws_atom::value, ws_signal{link_id, ws_signal::open, {}}); };
  h.on_message = [me, link_id](std::string text) {
    caf::anon_send(me, ws_atom::value, ws_signal{link_id, ws_signal::message, std::move(text)});
  };
  h.on_close = [me, link_id](std::string reason) {
    caf::anon_send(me, ws_atom::value, ws_signal{link_id, ws_signal::closed, std::move(reason)});
  };
  c.link = self->state.env->connect(c.target, std::move(h));
}

void link_opened(self_ptr self, connection& c) {
  set_state(self, c, conn_state::open);
  c.opened_at = now_of(self);
  // Live subscriptions first (they were sent on an earlier connection, or queued).
  for (auto& [sub_id, op] : c.subscriptions) {
    auto it = self->state.subs.find(op);
    if (it != self->state.subs.end() &&
        std::find(c.queued.begin(), c.queued.end(), it->second.req) == c.queued.end())
      c.link->send(it->second.req);
  }
  auto queued = std::move(c.queued);
  c.queued.clear();
  for (auto& m : queued)
    c.link->send(std::move(m));
}

// -- NIP-42 ------------------------------------------------------------------------

void send_auth(self_ptr self, connection& c) {
  if (c.challenge.empty() || !c.link || !self->state.env->platform_signer)
    return;
  // NIP-42: kind 22242 naming this relay and its challenge, signed by the platform key.
  auto ev = self->state.env->platform_signer->sign(nostr::auth_event(c.url, c.challenge, self->state.env->now()));
  c.auth_event_id = ev.id;
  ++counters(self).auths;
  c.link->send(nostr::client_auth_message(ev));
}

/// The relay refused `message` with auth-required: send it again after AUTH.
void retry_after_auth(self_ptr self, connection& c, const std::string& message) {
  c.after_auth.push_back(message);
  if (c.authed) {
    // Authenticated already (e.g. the refusal raced the AUTH): send it now.
    auto pending = std::move(c.after_auth);
    c.after_auth.clear();
    for (auto& m : pending)
      c.link->send(m);
    return;
  }
  if (c.auth_event_id.empty())
    send_auth(self, c);
}

// -- relay messages ----------------------------------------------------------------

void on_event(self_ptr self, connection& c, nostr::relay_message& m) {
  auto sit = c.subscriptions.find(m.subscription_id);
  if (sit == c.subscriptions.end() || !m.event)
    return;  // not ours (any more): ignored
  if (!nostr::verify_event(*m.event)) {
    ++counters(self).invalid_events;
    return;
  }
  auto& st = self->state;
  if (auto q = st.queries.find(sit->second); q != st.queries.end()) {
    if (q->second.events.size() < st.env->max_query_events)
      q->second.events.emplace(m.event->id, std::move(*m.event));
    return;
  }
  if (auto s = st.subs.find(sit->second); s != st.subs.end()) {
    auto& sub = s->second;
    if (!sub.seen.insert(m.event->id).second)
      return;  // already delivered (another relay, or again after a reconnect)
    sub.seen_order.push_back(m.event->id);
    if (sub.seen_order.size() > st.env->max_seen_per_subscription) {
      sub.seen.erase(sub.seen_order.front());
      sub.seen_order.pop_front();
    }
    self->send(sub.sink, pool_event_atom::value, s->first, c.url, std::move(*m.event));
  }
}

void on_ok(self_ptr self, connection& c, nostr::relay_message& m) {
  if (!c.auth_event_id.empty() && m.event_id == c.auth_event_id) {
    c.auth_event_id.clear();
    c.authed = m.accepted;
    if (m.accepted) {
      auto pending = std::move(c.after_auth);
      c.after_auth.clear();
      for (auto& msg : pending)
        c.link->send(msg);
    } else {
      log::warn("relay refused our NIP-42 AUTH", {{"relay", c.url}, {"message", m.message}});
      c.after_auth.clear();
      // What waited for this AUTH ends with the refusal.
      auto pubs = c.publishes;
      for (auto& [event_id, ops] : pubs)
        for (auto op : ops)
          if (auto it = self->state.publishes.find(op);
              it != self->state.publishes.end() && it->second.auth_retried.count(c.url))
            finish_publish_relay(self, op, c.url, publish_outcome::rejected,
                                 "auth-required: our AUTH was refused: " + m.message);
      auto subs = c.subscriptions;
      for (auto& [sub_id, op] : subs)
        if (auto it = self->state.queries.find(op);
            it != self->state.queries.end() && it->second.auth_retried.count(c.url))
          finish_query_relay(self, op, c.url, query_outcome::closed, "auth-required: our AUTH was refused: " + m.message);
    }
    return;
  }
  auto pit = c.publishes.find(m.event_id);
  if (pit == c.publishes.end())
    return;
  auto ops = pit->second;
  for (auto op_id : ops) {
    auto it = self->state.publishes.find(op_id);
    if (it == self->state.publishes.end())
      continue;
    auto& op = it->second;
    if (!m.accepted && nostr::machine_prefix(m.message) == "auth-required" && !op.auth_retried.count(c.url) &&
        !c.challenge.empty()) {
      op.auth_retried.insert(c.url);
      retry_after_auth(self, c, op.message);
      continue;
    }
    finish_publish_relay(self, op_id, c.url, m.accepted ? publish_outcome::accepted : publish_outcome::rejected,
                         m.message);
  }
}

void on_closed(self_ptr self, connection& c, nostr::relay_message& m) {
  auto sit = c.subscriptions.find(m.subscription_id);
  if (sit == c.subscriptions.end())
    return;
  auto op_id = sit->second;
  auto& st = self->state;
  bool auth = nostr::machine_prefix(m.message) == "auth-required" && !c.challenge.empty();
  if (auto q = st.queries.find(op_id); q != st.queries.end()) {
    if (auth && !q->second.auth_retried.count(c.url)) {
      q->second.auth_retried.insert(c.url);
      retry_after_auth(self, c, q->second.req);
      return;
    }
    finish_query_relay(self, op_id, c.url, query_outcome::closed, m.message);
    return;
  }
  if (auto s = st.subs.find(op_id); s != st.subs.end()) {
    if (auth && !s->second.auth_retried.count(c.url)) {
      s->second.auth_retried.insert(c.url);
      retry_after_auth(self, c, s->second.req);
      return;
    }
    log::warn("relay closed a live subscription", {{"relay", c.url}, {"message", m.message}});
  }
}

void on_message(self_ptr self, connection& c, const std::string& text) {
  auto m = nostr::parse_relay_message(text);
  switch (m.type) {
    case nostr::relay_message_type::event: on_event(self, c, m); break;
    case nostr::relay_message_type::ok: on_ok(self, c, m); break;
    case nostr::relay_message_type::eose: {
      auto sit = c.subscriptions.find(m.subscription_id);
      if (sit != c.subscriptions.end() && self->state.queries.count(sit->second))
        finish_query_relay(self, sit->second, c.url, query_outcome::eose, {});
      break;
    }
    case nostr::relay_message_type::closed: on_closed(self, c, m); break;
    case nostr::relay_message_type::notice: ++counters(self).notices; break;
    case nostr::relay_message_type::auth:
      c.challenge = m.challenge;
      c.authed = false;
      send_auth(self, c);
      break;
    default: ++counters(self).malformed; break;
  }
}

void on_signal(self_ptr self, ws_signal& sig) {
  auto& st = self->state;
  auto uit = st.link_urls.find(sig.link);
  if (uit == st.link_urls.end())
    return;  // a link we gave up on
  auto cit = st.connections.find(uit->second);
  if (cit == st.connections.end() || cit->second.link_id != sig.link)
    return;
  auto& c = cit->second;
  switch (sig.kind) {
    case ws_signal::open: link_opened(self, c); break;
    case ws_signal::message:
      on_message(self, c, sig.text);
      if (c.link)
        c.link->ack();
      break;
    case ws_signal::closed: link_closed(self, c, sig.text); break;
  }
}

// -- operations --------------------------------------------------------------------

std::string next_sub_id(self_ptr self, uint64_t op) {
  (void)self;
  return "rh" + std::to_string(op);
}

void sweep(self_ptr self) {
  auto& st = self->state;
  st.sweep_armed = false;
  auto now = now_of(self);
  for (auto it = st.connections.begin(); it != st.connections.end();) {
    auto& c = it->second;
    bool unused = !has_users(c) && now - c.last_used >= st.env->idle_close;
    if (unused && c.state != conn_state::backoff) {
      if (c.link) {
        st.link_urls.erase(c.link_id);
        c.link->close();
      }
      set_state(self, c, conn_state::idle);
      it = st.connections.erase(it);
    } else {
      ++it;
    }
  }
  if (!st.connections.empty())
    arm_sweep(self);
}

} // namespace

relay_pool_actor::behavior_type relay_pool_impl(self_ptr self, std::shared_ptr<const relay_pool_env> env) {
  self->state.env = std::move(env);
  self->set_down_handler([self](caf::down_msg& dm) {
    std::vector<uint64_t> gone;
    for (auto& [id, sub] : self->state.subs)
      if (sub.sink.address() == dm.source)
        gone.push_back(id);
    for (auto id : gone)
      self->send(caf::actor_cast<relay_pool_actor>(self), unsub_atom::value, id);
  });
  self->attach_functor([self] {
    // The links' handlers hold only an actor handle: close them so no io thread
    // keeps a connection for a pool that is gone.
    for (auto& [url, c] : self->state.connections) {
      if (c.link)
        c.link->close();
      set_state(self, c, conn_state::idle);
    }
  });
  return {
    [self](publish_atom, nostr::event& ev, std::vector<std::string>& relays,
           caf::timespan timeout) -> caf::result<publish_report> {
      auto& st = self->state;
      auto op_id = ++st.next_op;
      auto& op = st.publishes[op_id];
      op.promise = self->make_response_promise<publish_report>();
      op.event_id = ev.id;
      op.message = nostr::client_event_message(ev);
      std::vector<std::pair<std::string, std::string>> bad;
      auto conns = connections_for(self, relays, bad);
      for (auto& [url, why] : bad)
        op.results[url] = relay_publish_result{url, publish_outcome::failed, why};
      for (auto* c : conns)
        op.waiting.insert(c->url);
      auto promise = op.promise;
      for (auto* c : conns) {
        c->publishes[ev.id].push_back(op_id);
        if (!send_to(self, *c, op.message))
          finish_publish_relay(self, op_id, c->url, publish_outcome::failed, "too many messages queued for the relay");
      }
      if (auto it = st.publishes.find(op_id); it != st.publishes.end()) {
        if (it->second.waiting.empty()) {  // no relay to wait for: every URL was bad
          publish_report report;
          for (auto& [u, r] : it->second.results)
            report.relays.push_back(r);
          st.publishes.erase(it);
          promise.deliver(std::move(report));
        } else {
          self->delayed_send(self, timeout, deadline_atom::value, op_id);
        }
      }
      return promise;
    },
    [self](query_atom, std::vector<std::string>& filters, std::vector<std::string>& relays,
           caf::timespan timeout) -> caf::result<query_report> {
      auto& st = self->state;
      auto op_id = ++st.next_op;
      auto& op = st.queries[op_id];
      op.promise = self->make_response_promise<query_report>();
      op.sub_id = next_sub_id(self, op_id);
      op.req = nostr::client_req_message(op.sub_id, filters);
      std::vector<std::pair<std::string, std::string>> bad;
      auto conns = connections_for(self, relays, bad);
      for (auto& [url, why] : bad)
        op.results[url] = relay_query_result{url, query_outcome::failed, why};
      for (auto* c : conns)
        op.waiting.insert(c->url);
      auto promise = op.promise;
      auto req = op.req;
      auto sub_id = op.sub_id;
      for (auto* c : conns) {
        c->subscriptions[sub_id] = op_id;
        if (!send_to(self, *c, req))
          finish_query_relay(self, op_id, c->url, query_outcome::failed, "too many messages queued for the relay");
      }
      if (auto it = st.queries.find(op_id); it != st.queries.end()) {
        if (it->second.waiting.empty()) {
          query_report report;
          for (auto& [u, r] : it->second.results)
            report.relays.push_back(r);
          st.queries.erase(it);
          promise.deliver(std::move(report));
        } else {
          self->delayed_send(self, timeout, deadline_atom::value, op_id);
        }
      }
      return promise;
    },
    [self](subscribe_atom, std::vector<std::string>& filters, std::vector<std::string>& relays,
           pool_subscriber_actor& sink) -> uint64_t {
      auto& st = self->state;
      auto op_id = ++st.next_op;
      auto& sub = st.subs[op_id];
      sub.sink = sink;
      sub.sub_id = next_sub_id(self, op_id);
      sub.req = nostr::client_req_message(sub.sub_id, filters);
      std::vector<std::pair<std::string, std::string>> bad;
      for (auto* c : connections_for(self, relays, bad)) {
        sub.relays.push_back(c->url);
        c->subscriptions[sub.sub_id] = op_id;
        send_to(self, *c, sub.req);
      }
      for (auto& [url, why] : bad)
        log::warn("live subscription skips a relay", {{"relay", url}, {"error", why}});
      // A subscriber that ends takes its subscription with it.
      self->monitor(sink);
      return op_id;
    },
    [self](unsub_atom, uint64_t id) {
      auto& st = self->state;
      auto it = st.subs.find(id);
      if (it == st.subs.end())
        return;
      for (auto& url : it->second.relays) {
        auto cit = st.connections.find(url);
        if (cit == st.connections.end())
          continue;
        auto& c = cit->second;
        c.subscriptions.erase(it->second.sub_id);
        c.queued.erase(std::remove(c.queued.begin(), c.queued.end(), it->second.req), c.queued.end());
        if (c.state == conn_state::open && c.link)
          c.link->send(nostr::client_close_message(it->second.sub_id));
        c.last_used = now_of(self);
      }
      st.subs.erase(it);
    },
    [self](ws_atom, ws_signal& sig) { on_signal(self, sig); },
    [self](reconnect_atom, std::string& url, uint64_t gen) {
      auto it = self->state.connections.find(url);
      if (it == self->state.connections.end() || it->second.reconnect_gen != gen ||
          it->second.state != conn_state::backoff)
        return;
      if (!has_live_subs(it->second, self->state) && it->second.queued.empty()) {
        set_state(self, it->second, conn_state::idle);
        return;
      }
      open_link(self, it->second);
    },
    [self](deadline_atom, uint64_t op_id) {
      auto& st = self->state;
      if (auto p = st.publishes.find(op_id); p != st.publishes.end()) {
        auto waiting = p->second.waiting;
        for (auto& url : waiting)
          finish_publish_relay(self, op_id, url, publish_outcome::timed_out, "no OK within the timeout");
      }
      if (auto q = st.queries.find(op_id); q != st.queries.end()) {
        auto waiting = q->second.waiting;
        for (auto& url : waiting)
          finish_query_relay(self, op_id, url, query_outcome::timed_out, "no EOSE within the timeout");
      }
    },
    [self](sweep_atom) { sweep(self); },
    [self](stats_atom) {
      auto& st = self->state;
      relay_pool_stats s;
      s.connections = st.connections.size();
      for (auto& [url, c] : st.connections) {
        s.open += c.state == conn_state::open;
        s.queued += c.queued.size();
      }
      s.publishes = st.publishes.size();
      s.queries = st.queries.size();
      s.subscriptions = st.subs.size();
      return s;
    },
  };
}

} // namespace relayhost
