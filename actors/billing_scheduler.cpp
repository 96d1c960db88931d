#include "actors/billing_scheduler.hpp"

#include <caf/all.hpp>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/log.hpp"
#include "storage/billing_store.hpp"

namespace relayhost {

namespace {

using self_ptr = instrumented_pointer<billing_scheduler_actor, billing_scheduler_state>;

bill_summary parse_summary(const http::api_response& r) {
  bill_summary s;
  if (r.status != 200)
    return s;
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object())
    return s;
  s.answered = true;
  s.periods_closed = j.value("periods_closed", int64_t{0});
  s.invoices_created = j.value("invoices_created", int64_t{0});
  s.bolt11_issued = j.value("bolt11_issued", int64_t{0});
  s.wallet_errors = j.value("wallet_errors", int64_t{0});
  return s;
}

void dispatch(self_ptr self);

void end_pass(self_ptr self) {
  auto& st = self->state;
  st.running = false;
  ++st.passes;
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                      st.pass_started)
                  .count();
  if (auto& c = st.env->counters) {
    ++c->passes;
    c->last_pass_millis = millis;
    c->last_pass_invoices = st.pass_invoices;
    c->pass_millis_total += static_cast<uint64_t>(millis);
  }
  if (st.pass_invoices > 0)
    log::info("billing pass", {{"invoices_created", std::to_string(st.pass_invoices)},
                               {"millis", std::to_string(millis)}});
  if (st.again) {
    st.again = false;
    self->send(self, tick_atom::value, true);
  }
}

void read_page(self_ptr self) {
  auto& st = self->state;
  st.reading = true;
  auto rows = std::make_shared<std::vector<std::string>>();
  auto now = st.pass_now;
  auto after = st.cursor;
  auto limit = st.env->page_size;
  bool mint = st.env->wallet && st.env->wallet->enabled();
  self->request(st.env->storage, st.env->storage_timeout, read_atom::value,
                storage_read{"billing.due",
                             [rows, now, mint, after, limit](SQLite::Database& db) {
                               *rows = storage::billing_due_tenants(db, now, mint, after, limit);
                             }})
    .then(
      [self, rows](bool) {
        auto& st = self->state;
        st.reading = false;
        st.exhausted = static_cast<int64_t>(rows->size()) < st.env->page_size;
        if (!rows->empty())
          st.cursor = rows->back();
        auto real = st.env->real_now();
        for (auto& pk : *rows) {
          auto h = st.held.find(pk);
          if (h != st.held.end() && h->second.until > real)
            continue;  // its wallet failed lately: it waits out its backoff
          if (!st.in_flight.count(pk))
            st.queue.push_back(pk);
        }
        dispatch(self);
      },
      [self](caf::error& err) {
        log::warn("billing due list could not be read; the next tick tries again", {{"error", caf::to_string(err)}});
        auto& st = self->state;
        st.reading = false;
        st.exhausted = true;
        st.queue.clear();
        dispatch(self);
      });
}

void dispatch(self_ptr self) {
  auto& st = self->state;
  while (st.in_flight.size() < st.env->concurrency && !st.queue.empty()) {
    auto pk = std::move(st.queue.front());
    st.queue.pop_front();
    if (!st.in_flight.insert(pk).second)
      continue;
    tenant_call call;
    call.op = tenant_op::bill;
    auto me = caf::actor_cast<billing_scheduler_actor>(self);
    call.respond = http::responder([me, pk](http::api_response&& r) {
      caf::anon_send(me, billed_atom::value, pk, parse_summary(r));
    });
    self->send(st.env->registry, call_atom::value, pk, std::move(call));
  }
  if (st.queue.empty() && !st.reading) {
    if (!st.exhausted)
      read_page(self);
    else if (st.in_flight.empty())
      end_pass(self);
  }
}

void start_pass(self_ptr self) {
  auto& st = self->state;
  if (st.running) {
    st.again = true;
    return;
  }
  if (!st.env->wallet || !st.env->wallet->enabled())
    return;  // billing disabled: nothing closes until the platform wallet is there
  st.running = true;
  st.exhausted = false;
  st.cursor.clear();
  st.queue.clear();
  st.pass_now = st.env->now();
  st.pass_invoices = 0;
  st.pass_started = std::chrono::steady_clock::now();
  read_page(self);
}

} // namespace

billing_scheduler_actor::behavior_type billing_scheduler_impl(self_ptr self,
                                                              std::shared_ptr<const billing_scheduler_env> env) {
  self->state.env = std::move(env);
  return {
    [self](tick_atom) {
      self->delayed_send(self, self->state.env->tick, tick_atom::value);
      start_pass(self);
    },
    [self](tick_atom, bool) { start_pass(self); },
    [self](billed_atom, std::string& pk, bill_summary& s) {
      auto& st = self->state;
      st.in_flight.erase(pk);
      ++st.billed;
      st.pass_invoices += s.invoices_created;
      if (!s.answered || s.wallet_errors > 0) {
        auto& h = st.held[pk];
        ++h.failures;
        auto tick_s = std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(st.env->tick).count());
        int64_t wait = tick_s;
        for (int i = 1; i < h.failures && wait < st.env->backoff_max_seconds; ++i)
          wait *= 2;
        h.until = st.env->real_now() + std::min(wait, st.env->backoff_max_seconds);
      } else {
        st.held.erase(pk);
      }
      if (st.running)
        dispatch(self);
    },
    [self](stats_atom) {
      auto& st = self->state;
      billing_scheduler_stats s;
      s.passes = st.passes;
      s.tenants_billed = st.billed;
      s.in_flight = st.in_flight.size();
      s.queued = st.queue.size();
      s.backing_off = st.held.size();
      s.running = st.running;
      return s;
    },
  };
}

} // namespace relayhost
