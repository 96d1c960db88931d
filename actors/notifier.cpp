#include "actors/notifier.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "actors/errc_caf.hpp"
#include "core/log.hpp"
#include "nostr/event.hpp"
#include "nostr/keys.hpp"
#include "nostr/nip59.hpp"
#include "storage/errors.hpp"
#include "storage/notification_store.hpp"

namespace relayhost {

namespace {

using self_ptr = instrumented_pointer<notifier_actor, notifier_state>;
using lookup = notifier_state::lookup;

constexpr int inbox_list_kind = 10050;

const notifier_env& env_of(self_ptr self) {
  return *self->state.env;
}

void pass(self_ptr self);

/// Wakes at `at` (unix seconds) unless a timer fires sooner already.
void arm(self_ptr self, int64_t at) {
  auto& st = self->state;
  auto now = env_of(self).now();
  at = std::min(at, now + env_of(self).poll.count());
  if (st.timer_at != 0 && st.timer_at <= at && st.timer_at > now)
    return;
  st.timer_at = at;
  auto delay = std::chrono::seconds{std::max<int64_t>(at - now, 1)};
  self->delayed_send(self, delay, retry_atom::value, ++st.timer_gen);
}

/// Runs `apply` in a storage write; `then(ok)` after the commit (or the failure).
template <class Apply, class Then>
void write(self_ptr self, const char* label, Apply apply, Then then) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(env_of(self).storage_timeout);
  self->request(env_of(self).storage, caf::infinite, write_atom::value, storage_write{label, apply, deadline})
    .then([then](bool) mutable { then(true); },
          [then, label](caf::error& err) mutable {
            log::warn("outbox write failed", {{"write", label}, {"error", caf::to_string(err)}});
            then(false);
          });
}

void done(self_ptr self, const notification& n) {
  self->state.in_flight.erase(n.id);
  // A slot is free: anything else due gets its turn.
  pass(self);
}

void record(self_ptr self, const notification& n, const outbox_step& step) {
  auto& c = *env_of(self).counters;
  auto& st = self->state;
  switch (step.state) {
    case notification_state::sent:
      ++c.sent;
      ++st.stats.sent;
      log::info("notification sent", {{"notification", n.id}, {"kind", n.kind}});
      break;
    case notification_state::undeliverable:
      if (n.state != notification_state::undeliverable) {
        ++c.undeliverable;
        ++st.stats.undeliverable;
      }
      break;
    case notification_state::failed:
      ++c.failed;
      ++st.stats.failed;
      log::warn("notification failed for good", {{"notification", n.id}, {"error", step.last_error.value_or("")}});
      break;
    case notification_state::pending:
      ++c.retried;
      ++st.stats.retried;
      break;
  }
  auto id = n.id;
  auto now = env_of(self).now();
  write(self, "notification.attempt",
        [id, step, now](SQLite::Database& db) { storage::apply_outbox_step(db, id, step, now); },
        [self, n](bool) { done(self, n); });
}

// -- the recipient's inbox relays ---------------------------------------------------

void resolve_inbox(self_ptr self, const std::string& recipient, std::function<void(const lookup&)> k) {
  auto& st = self->state;
  auto now = env_of(self).now();
  if (auto it = st.inbox_cache.find(recipient);
      it != st.inbox_cache.end() && now - it->second.fetched_at < env_of(self).inbox_cache_ttl.count()) {
    ++st.stats.inbox_cache_hits;
    k(it->second.result);
    return;
  }
  auto& waiters = st.resolving[recipient];
  waiters.push_back(std::move(k));
  if (waiters.size() > 1)
    return;  // a lookup for this recipient is on its way
  ++st.stats.inbox_lookups;
  std::string filter = R"({"kinds":[)" + std::to_string(inbox_list_kind) + R"(],"authors":[")" + recipient +
                       R"("],"limit":1})";
  auto finish = [self, recipient](lookup result) {
    auto& st = self->state;
    if (result.known)  // an answer is cached; "nobody answered" is not
      st.inbox_cache[recipient] = {result, env_of(self).now()};
    auto ws = std::move(st.resolving[recipient]);
    st.resolving.erase(recipient);
    for (auto& w : ws)
      w(result);
  };
  self->request(env_of(self).pool, env_of(self).lookup_timeout * 2, query_atom::value,
                std::vector<std::string>{filter}, env_of(self).indexers, env_of(self).lookup_timeout)
    .then(
      [finish, recipient](query_report& report) {
        lookup result;
        // Only an indexer that answered EOSE speaks for "there is none".
        result.known = std::any_of(report.relays.begin(), report.relays.end(),
                                   [](const relay_query_result& r) { return r.outcome == query_outcome::eose; });
        result.list = newest_inbox_list(report.events, recipient);
        if (result.list)
          result.known = true;
        if (!result.known) {
          result.error = "no indexer relay answered";
          for (auto& r : report.relays)
            if (!r.message.empty()) {
              result.error += " (" + r.relay + ": " + r.message + ")";
              break;
            }
        }
        finish(std::move(result));
      },
      [finish](caf::error& err) {
        lookup result;
        result.error = "inbox lookup failed: " + caf::to_string(err);
        finish(std::move(result));
      });
}

// -- one notice ---------------------------------------------------------------------

void publish(self_ptr self, const notification& n, const nostr::event& wrap, const std::vector<std::string>& relays) {
  self->request(env_of(self).pool, env_of(self).publish_timeout * 2, publish_atom::value, wrap, relays,
                env_of(self).publish_timeout)
    .then(
      [self, n](publish_report& report) {
        record(self, n, after_publication(n, report.relays, env_of(self).now(), env_of(self).policy));
      },
      [self, n](caf::error& err) {
        record(self, n,
               after_transient_failure(n, "publication failed: " + caf::to_string(err), env_of(self).now(),
                                       env_of(self).policy));
      });
}

void deliver(self_ptr self, notification n, const inbox_list& inbox) {
  if (n.wrap_json) {
    auto wrap = nostr::parse_event(*n.wrap_json);
    if (wrap) {
      publish(self, n, *wrap, inbox.relays);
      return;
    }
    log::error("stored gift wrap does not parse; notification dropped", {{"notification", n.id}});
    outbox_step s;
    s.state = notification_state::failed;
    s.attempts = n.attempts + 1;
    s.last_error = "the stored gift wrap is corrupt";
    record(self, n, s);
    return;
  }
  // Built once, committed before it is ever published.
  nostr::dm_message dm;
  dm.recipient_pubkey = n.recipient;
  dm.text = n.text;
  dm.now = env_of(self).now();
  nostr::event wrap;
  try {
    wrap = nostr::wrap_dm(*env_of(self).platform_key, dm);
  } catch (const std::exception& e) {
    outbox_step s;
    s.state = notification_state::failed;
    s.attempts = n.attempts + 1;
    s.last_error = std::string("the notice could not be wrapped: ") + e.what();
    record(self, n, s);
    return;
  }
  auto json = nostr::to_json(wrap);
  auto id = n.id;
  auto wrap_id = wrap.id;
  auto now = env_of(self).now();
  write(self, "notification.wrap",
        [id, json, wrap_id, now](SQLite::Database& db) { storage::store_notification_wrap(db, id, json, wrap_id, now); },
        [self, n, wrap, relays = inbox.relays](bool ok) mutable {
          if (!ok) {
            // Not stored (or stored by someone else): publish nothing now; the next
            // pass reads the row again and uses whatever wrap it holds.
            record(self, n,
                   after_transient_failure(n, "the gift wrap could not be stored", env_of(self).now(),
                                           env_of(self).policy));
            return;
          }
          n.wrap_json = nostr::to_json(wrap);
          n.wrap_id = wrap.id;
          publish(self, n, wrap, relays);
        });
}

void process(self_ptr self, notification n) {
  self->state.in_flight.insert(n.id);
  auto recipient = n.recipient;
  resolve_inbox(self, recipient, [self, n](const lookup& found) mutable {
    auto now = env_of(self).now();
    if (!found.known) {
      record(self, n, after_transient_failure(n, found.error, now, env_of(self).policy));
      return;
    }
    if (!found.list || found.list->relays.empty()) {
      record(self, n, after_no_inbox(n, now, env_of(self).policy));
      return;
    }
    deliver(self, std::move(n), *found.list);
  });
}

void count_rows(self_ptr self) {
  auto& st = self->state;
  auto now = env_of(self).now();
  if (now - st.counted_at < env_of(self).count_every.count())
    return;
  st.counted_at = now;
  auto counts = std::make_shared<std::map<notification_state, int64_t>>();
  self->request(env_of(self).storage, env_of(self).storage_timeout, read_atom::value,
                storage_read{"notification.count", [counts](SQLite::Database& db) { *counts = storage::count_notifications(db); }})
    .then(
      [self, counts](bool) {
        auto& c = *env_of(self).counters;
        c.pending_rows = (*counts)[notification_state::pending];
        c.sent_rows = (*counts)[notification_state::sent];
        c.undeliverable_rows = (*counts)[notification_state::undeliverable];
        c.failed_rows = (*counts)[notification_state::failed];
        c.counted = true;
      },
      [](caf::error&) {});
}

/// Reads what is due and starts each (bounded); arms the timer for the next due row.
void pass(self_ptr self) {
  auto& st = self->state;
  if (st.reading) {
    st.again = true;
    return;
  }
  count_rows(self);
  if (st.in_flight.size() >= env_of(self).max_in_flight)
    return;  // `done` calls pass again when a slot frees up
  st.reading = true;
  st.again = false;
  struct due_rows {
    std::vector<notification> rows;
    std::optional<int64_t> next;
  };
  auto result = std::make_shared<due_rows>();
  auto now = env_of(self).now();
  auto limit = static_cast<int64_t>(env_of(self).batch + st.in_flight.size());
  self->request(env_of(self).storage, env_of(self).storage_timeout, read_atom::value,
                storage_read{"notification.due",
                             [result, now, limit](SQLite::Database& db) {
                               result->rows = storage::due_notifications(db, now, limit);
                               result->next = storage::next_notification_due(db);
                             }})
    .then(
      [self, result](bool) {
        auto& st = self->state;
        st.reading = false;
        ++st.stats.passes;
        bool more = false;
        for (auto& n : result->rows) {
          if (st.in_flight.count(n.id))
            continue;
          if (st.in_flight.size() >= env_of(self).max_in_flight) {
            more = true;
            break;
          }
          process(self, std::move(n));
        }
        auto now = env_of(self).now();
        if (st.again || (more && st.in_flight.size() < env_of(self).max_in_flight)) {
          pass(self);
          return;
        }
        if (result->next)
          arm(self, std::max(*result->next, now + 1));
        else
          arm(self, now + env_of(self).poll.count());
      },
      [self](caf::error& err) {
        auto& st = self->state;
        st.reading = false;
        log::warn("outbox read failed", {{"error", caf::to_string(err)}});
        arm(self, env_of(self).now() + 5);
      });
}

} // namespace

notifier_actor::behavior_type notifier_impl(self_ptr self, std::shared_ptr<const notifier_env> env) {
  self->state.env = std::move(env);
  return {
    [self](notify_atom) { pass(self); },
    [self](retry_atom, uint64_t gen) {
      if (gen != self->state.timer_gen)
        return;
      self->state.timer_at = 0;
      pass(self);
    },
    [self](stats_atom) {
      auto s = self->state.stats;
      s.in_flight = self->state.in_flight.size();
      return s;
    },
  };
}

} // namespace relayhost
