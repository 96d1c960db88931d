// The stats poller in simulated time, against stand-ins for the tenant registry
// and the zooid client and a real storage actor: actor stats every interval,
// rows by status only every count interval, and a stuck source is not asked again
// while its request is unanswered (its time stops moving instead).
#undef CAF_SUITE  // the tests' precompiled header already set it to "unnamed"
#define CAF_SUITE stats_poller
#include <caf/test/dsl.hpp>

#include <SQLiteCpp/Database.h>

#include "actors/stats_poller.hpp"
#include "actors/storage_actor.hpp"
#include "tests/support/temp_db.hpp"

using namespace relayhost;
using namespace std::chrono_literals;

namespace {

constexpr int64_t start_time = 1764000000;

struct fake_stats {
  registry_stats registry;
  zooid_stats zooid;
  size_t registry_asked = 0;
  bool registry_stuck = false;  // never answer
};

tenant_registry_actor::behavior_type fake_registry(tenant_registry_actor::pointer self,
                                                   std::shared_ptr<fake_stats> s) {
  return {
    [](call_atom, std::string&, tenant_call&) {},
    [](synced_atom, std::string&, zooid_sync_result&) {},
    [](idle_atom, std::string&, tenant_actor&) {},
    [self, s](stats_atom) -> caf::result<registry_stats> {
      ++s->registry_asked;
      if (s->registry_stuck)
        return self->make_response_promise<registry_stats>();  // never delivered
      return s->registry;
    },
    [](find_atom, const std::string&) { return tenant_actor{}; },
  };
}

zooid_actor::behavior_type fake_zooid(std::shared_ptr<fake_stats> s) {
  return {
    [](sync_atom, relay&) {},
    [](start_atom, tenant_registry_actor&) {},
    [](answer_atom, std::string&, uint64_t, zooid_answer&) {},
    [](retry_atom, std::string&, uint64_t) {},
    [](probe_atom) {},
    [](probe_atom, zooid_answer&) {},
    [s](stats_atom) { return s->zooid; },
  };
}

std::string hex_key(char c) {
  return std::string(64, c);
}

struct fixture : test_coordinator_fixture<> {
  test::temp_db tdb;
  std::shared_ptr<fake_stats> fake = std::make_shared<fake_stats>();
  std::shared_ptr<ops_stats> out = std::make_shared<ops_stats>();
  storage_actor storage;
  tenant_registry_actor registry;
  zooid_actor zooid;
  stats_poller_actor poller;
  int64_t now = start_time;

  fixture() {
    storage = sys.spawn(make_storage, tdb.open(), storage_options{});
    registry = sys.spawn(fake_registry, fake);
    zooid = sys.spawn(fake_zooid, fake);
    sched.run();
  }

  void start(std::chrono::seconds timeout = 5s) {
    stats_poller_options opts;
    opts.actor_interval = 5s;
    opts.count_interval = 30s;
    opts.request_timeout = timeout;
    opts.now = [this] { return now; };
    poller = sys.spawn(stats_poller_impl, out, registry, zooid, storage, opts);
    sched.run();
  }

  void advance(std::chrono::seconds d) {
    now += d.count();
    sched.advance_time(d);
    sched.run();
  }

  void add_tenant(char key, const char* status) {
    auto db = tdb.open();
    SQLite::Statement st(*db, "INSERT INTO tenants (pubkey, status, suspend_reason, suspended_at, created_at, "
                              "updated_at) VALUES (?, ?, ?, ?, 1, 1)");
    st.bind(1, hex_key(key));
    st.bind(2, status);
    if (std::string(status) == "suspended") {
      st.bind(3, "test");
      st.bind(4, 1);
    }
    st.exec();
  }

  void add_relay(const char* id, char tenant, const char* status, const char* sync) {
    auto db = tdb.open();
    SQLite::Statement st(*db, "INSERT INTO relays (id, tenant, subdomain, name, plan, status, secret_enc, "
                              "sync_state, created_at, updated_at) VALUES (?, ?, ?, 'n', 'free', ?, x'00', ?, 1, 1)");
    st.bind(1, id);
    st.bind(2, hex_key(tenant));
    st.bind(3, std::string("relay-") + id);
    st.bind(4, status);
    st.bind(5, sync);
    st.exec();
  }

  ~fixture() {
    for (auto a : {caf::actor_cast<caf::actor>(poller), caf::actor_cast<caf::actor>(registry),
                   caf::actor_cast<caf::actor>(zooid), caf::actor_cast<caf::actor>(storage)})
      if (a)
        anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched.run();
  }
};

uint64_t get(const std::atomic<uint64_t>& a) {
  return a.load();
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(stats_poller_tests, fixture)

CAF_TEST(the first poll fills every value at once) {
  fake->registry = {3, 7, 2, 1};
  fake->zooid = {4, 1, 20, 15, 5, 2};
  add_tenant('a', "active");
  add_tenant('b', "active");
  add_tenant('c', "suspended");
  add_relay("r1", 'a', "active", "synced");
  add_relay("r2", 'a', "inactive", "pending");
  add_relay("r3", 'b', "delinquent", "failed");
  start();
  CAF_CHECK_EQUAL(get(out->tenants_loaded), 3u);
  CAF_CHECK_EQUAL(get(out->tenants_spawned), 7u);
  CAF_CHECK_EQUAL(get(out->tenants_stopped_idle), 2u);
  CAF_CHECK_EQUAL(get(out->tenants_failed), 1u);
  CAF_CHECK_EQUAL(get(out->zooid_queued), 4u);
  CAF_CHECK_EQUAL(get(out->zooid_in_flight), 1u);
  CAF_CHECK_EQUAL(get(out->zooid_calls), 20u);
  CAF_CHECK_EQUAL(get(out->zooid_synced), 15u);
  CAF_CHECK_EQUAL(get(out->zooid_retries), 5u);
  CAF_CHECK_EQUAL(get(out->zooid_failed), 2u);
  // tenants: active, suspended
  CAF_CHECK_EQUAL(get(out->tenants_by_status[0]), 2u);
  CAF_CHECK_EQUAL(get(out->tenants_by_status[1]), 1u);
  // relays: active, inactive, suspended, delinquent
  CAF_CHECK_EQUAL(get(out->relays_by_status[0]), 1u);
  CAF_CHECK_EQUAL(get(out->relays_by_status[1]), 1u);
  CAF_CHECK_EQUAL(get(out->relays_by_status[2]), 0u);
  CAF_CHECK_EQUAL(get(out->relays_by_status[3]), 1u);
  // sync: pending, synced, failed
  CAF_CHECK_EQUAL(get(out->relays_by_sync[0]), 1u);
  CAF_CHECK_EQUAL(get(out->relays_by_sync[1]), 1u);
  CAF_CHECK_EQUAL(get(out->relays_by_sync[2]), 1u);
  CAF_CHECK_EQUAL(get(out->invoices_by_status[0]), 0u);
  CAF_CHECK_EQUAL(out->registry_at.load(), start_time);
  CAF_CHECK_EQUAL(out->zooid_at.load(), start_time);
  CAF_CHECK_EQUAL(out->counted_at.load(), start_time);
}

CAF_TEST(actors are polled every interval and rows counted every count interval) {
  add_tenant('a', "active");
  start();
  CAF_CHECK_EQUAL(get(out->tenants_by_status[0]), 1u);
  fake->registry.spawned = 9;
  fake->zooid.calls = 11;
  add_tenant('b', "active");
  advance(5s);
  CAF_CHECK_EQUAL(get(out->tenants_spawned), 9u);
  CAF_CHECK_EQUAL(get(out->zooid_calls), 11u);
  CAF_CHECK_EQUAL(out->registry_at.load(), start_time + 5);
  CAF_CHECK_EQUAL(get(out->tenants_by_status[0]), 1u);  // not counted again yet
  CAF_CHECK_EQUAL(out->counted_at.load(), start_time);
  for (int i = 0; i < 5; ++i)
    advance(5s);
  CAF_CHECK_EQUAL(get(out->tenants_by_status[0]), 2u);  // 30 s after the first count
  CAF_CHECK_EQUAL(out->counted_at.load(), start_time + 30);
}

CAF_TEST(a stuck source is not asked again until its request times out) {
  fake->registry_stuck = true;
  start(20s);
  CAF_CHECK_EQUAL(fake->registry_asked, 1u);
  advance(5s);
  advance(5s);
  advance(5s);
  CAF_CHECK_EQUAL(fake->registry_asked, 1u);
  CAF_CHECK_EQUAL(out->registry_at.load(), 0);   // never answered
  CAF_CHECK_EQUAL(out->zooid_at.load(), start_time + 15);  // the others go on
  advance(5s);  // 20 s: the request times out; the next tick asks again
  advance(5s);
  CAF_CHECK_EQUAL(fake->registry_asked, 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()
