#include "actors/stats_poller.hpp"

#include <ctime>
#include <string>

#include <caf/all.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "actors/errc_caf.hpp"
#include "core/log.hpp"

namespace relayhost {

namespace {

using self_ptr = instrumented_pointer<stats_poller_actor, stats_poller_state>;

/// Rows by status as counted on the storage thread, stored when the read answers.
struct status_counts {
  std::array<uint64_t, tenant_status_values.size()> tenants{};
  std::array<uint64_t, relay_status_values.size()> relays{};
  std::array<uint64_t, relay_sync_values.size()> relays_sync{};
  std::array<uint64_t, invoice_status_values.size()> invoices{};
};

/// Runs `SELECT <column>, COUNT(*) … GROUP BY <column>` into `out` (by position in
/// `values`); a value outside the vocabulary cannot exist (CHECK) and is ignored.
template <size_t N>
void count_by(SQLite::Database& db, const char* sql, const std::array<std::string_view, N>& values,
              std::array<uint64_t, N>& out) {
  SQLite::Statement q(db, sql);
  while (q.executeStep()) {
    const std::string value = q.getColumn(0).getString();
    for (size_t i = 0; i < N; ++i)
      if (values[i] == value)
        out[i] = static_cast<uint64_t>(q.getColumn(1).getInt64());
  }
}

template <size_t N>
void store(std::array<std::atomic<uint64_t>, N>& to, const std::array<uint64_t, N>& from) {
  for (size_t i = 0; i < N; ++i)
    to[i].store(from[i], std::memory_order_relaxed);
}

double seconds_since(self_ptr self, caf::actor_clock::time_point sent) {
  return std::chrono::duration<double>(self->clock().now() - sent).count();
}

int64_t now_unix(self_ptr self) {
  return self->state.opts.now ? self->state.opts.now() : static_cast<int64_t>(std::time(nullptr));
}

void poll_registry(self_ptr self) {
  auto& st = self->state;
  if (!st.registry || st.registry_pending)
    return;
  st.registry_pending = true;
  auto sent = self->clock().now();
  self->request(st.registry, st.opts.request_timeout, stats_atom::value)
    .then(
      [self, sent](const registry_stats& s) {
        auto& st = self->state;
        st.registry_pending = false;
        auto& o = *st.out;
        o.tenants_loaded.store(s.loaded, std::memory_order_relaxed);
        o.tenants_spawned.store(s.spawned, std::memory_order_relaxed);
        o.tenants_stopped_idle.store(s.stopped_idle, std::memory_order_relaxed);
        o.tenants_failed.store(s.failed, std::memory_order_relaxed);
        o.registry_round_trip.store(seconds_since(self, sent), std::memory_order_relaxed);
        o.registry_at.store(now_unix(self), std::memory_order_relaxed);
      },
      [self](caf::error& err) {
        self->state.registry_pending = false;
        log::warn("stats poller: the tenant registry did not answer", {{"error", caf::to_string(err)}});
      });
}

void poll_zooid(self_ptr self) {
  auto& st = self->state;
  if (!st.zooid || st.zooid_pending)
    return;
  st.zooid_pending = true;
  auto sent = self->clock().now();
  self->request(st.zooid, st.opts.request_timeout, stats_atom::value)
    .then(
      [self, sent](const zooid_stats& s) {
        auto& st = self->state;
        st.zooid_pending = false;
        auto& o = *st.out;
        o.zooid_queued.store(s.queued, std::memory_order_relaxed);
        o.zooid_in_flight.store(s.in_flight, std::memory_order_relaxed);
        o.zooid_calls.store(s.calls, std::memory_order_relaxed);
        o.zooid_synced.store(s.synced, std::memory_order_relaxed);
        o.zooid_retries.store(s.retries, std::memory_order_relaxed);
        o.zooid_confirmations.store(s.confirmations, std::memory_order_relaxed);
        o.zooid_failed.store(s.failed, std::memory_order_relaxed);
        o.zooid_round_trip.store(seconds_since(self, sent), std::memory_order_relaxed);
        o.zooid_at.store(now_unix(self), std::memory_order_relaxed);
      },
      [self](caf::error& err) {
        self->state.zooid_pending = false;
        log::warn("stats poller: the zooid client did not answer", {{"error", caf::to_string(err)}});
      });
}

void count_rows(self_ptr self) {
  auto& st = self->state;
  if (!st.storage || st.count_pending)
    return;
  auto sent = self->clock().now();
  if (st.counted_once && sent - st.last_count_sent < st.opts.count_interval)
    return;
  st.counted_once = true;
  st.count_pending = true;
  st.last_count_sent = sent;
  auto counts = std::make_shared<status_counts>();
  storage_read read{"ops.count_by_status", [counts](SQLite::Database& db) {
                      count_by(db, "SELECT status, COUNT(*) FROM tenants GROUP BY status", tenant_status_values,
                               counts->tenants);
                      count_by(db, "SELECT status, COUNT(*) FROM relays GROUP BY status", relay_status_values,
                               counts->relays);
                      count_by(db, "SELECT sync_state, COUNT(*) FROM relays GROUP BY sync_state", relay_sync_values,
                               counts->relays_sync);
                      count_by(db, "SELECT status, COUNT(*) FROM invoices GROUP BY status", invoice_status_values,
                               counts->invoices);
                    }};
  self->request(st.storage, st.opts.request_timeout, read_atom::value, std::move(read))
    .then(
      [self, sent, counts](bool) {
        auto& st = self->state;
        st.count_pending = false;
        auto& o = *st.out;
        store(o.tenants_by_status, counts->tenants);
        store(o.relays_by_status, counts->relays);
        store(o.relays_by_sync, counts->relays_sync);
        store(o.invoices_by_status, counts->invoices);
        o.storage_round_trip.store(seconds_since(self, sent), std::memory_order_relaxed);
        o.counted_at.store(now_unix(self), std::memory_order_relaxed);
      },
      [self](caf::error& err) {
        self->state.count_pending = false;
        log::warn("stats poller: counting rows by status failed", {{"error", caf::to_string(err)}});
      });
}

} // namespace

stats_poller_actor::behavior_type stats_poller_impl(self_ptr self, std::shared_ptr<ops_stats> out,
                                                    tenant_registry_actor registry, zooid_actor zooid,
                                                    storage_actor storage, stats_poller_options opts) {
  auto& st = self->state;
  st.out = out ? std::move(out) : std::make_shared<ops_stats>();
  st.opts = std::move(opts);
  if (st.opts.actor_interval <= std::chrono::seconds::zero() || st.opts.count_interval <= std::chrono::seconds::zero()
      || st.opts.request_timeout <= std::chrono::seconds::zero()) {
    log::error("stats poller: intervals and timeout must be positive");
    self->quit(make_api_error(errc::internal, "stats poller: intervals and timeout must be positive"));
    return stats_poller_actor::behavior_type::make_empty_behavior();
  }
  st.registry = std::move(registry);
  st.zooid = std::move(zooid);
  st.storage = std::move(storage);
  // The first poll at once, so /metrics has values within a moment of the start.
  self->send(self, stats_atom::value);
  return {
    [self](stats_atom) {
      poll_registry(self);
      poll_zooid(self);
      count_rows(self);
      self->delayed_send(self, self->state.opts.actor_interval, stats_atom::value);
    },
  };
}

} // namespace relayhost
