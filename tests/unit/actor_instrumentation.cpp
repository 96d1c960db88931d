// The per-actor-type metrics of actors/instrumented.hpp in simulated time: the live
// count follows spawn and termination, messages_total and the handling-time
// histogram count exactly the messages handled (a message skipped while its actor
// awaits a response counts once, when handled), the mailbox depth is exactly what is
// enqueued and not yet handled, and it returns to its baseline when an actor ends
// with messages queued or is sent messages after it ended. Also: every actor of
// actors/ is spawned as an instrumented actor.
#define CAF_SUITE actor_instrumentation
#include <caf/test/dsl.hpp>

#include <type_traits>

#include "actors/admin_actor.hpp"
#include "actors/instrumented.hpp"
#include "actors/stats_poller.hpp"
#include "actors/storage_actor.hpp"
#include "actors/tenant_actor.hpp"
#include "actors/tenant_registry.hpp"
#include "actors/zooid_actor.hpp"
#include "tests/support/checks.hpp"

using namespace relayhost;

namespace {

// -- every actor type of actors/ is instrumented ----------------------------------

template <class F> using impl_of = caf::infer_impl_from_fun_t<F>;

static_assert(std::is_same_v<impl_of<decltype(&make_storage)>, instrumented_actor<storage_actor, storage_state>>);
static_assert(std::is_same_v<impl_of<decltype(&tenant_actor_impl)>, instrumented_actor<tenant_actor, tenant_state>>);
static_assert(std::is_same_v<impl_of<decltype(&tenant_registry_impl)>,
                             instrumented_actor<tenant_registry_actor, tenant_registry_state>>);
static_assert(std::is_same_v<impl_of<decltype(&zooid_actor_impl)>, instrumented_actor<zooid_actor, zooid_state>>);
static_assert(std::is_same_v<impl_of<decltype(&admin_actor_impl)>, instrumented_actor<admin_actor, admin_state>>);
static_assert(std::is_same_v<impl_of<decltype(&stats_poller_impl)>,
                             instrumented_actor<stats_poller_actor, stats_poller_state>>);

// -- a probe actor type -------------------------------------------------------------

/// ping: counted; stop: quit; read: answers the pings handled so far; call with
/// another probe: asks it `read` and awaits the answer (skipping other messages).
using probe_actor = caf::typed_actor<caf::reacts_to<ping_atom>, caf::reacts_to<stop_atom>,
                                     caf::replies_to<read_atom>::with<int>, caf::reacts_to<call_atom, caf::actor>>;

struct probe_state {
  static inline const char* name = "test_probe";
  int pings = 0;
  int answer = -1;  // what the awaited `read` returned
};

probe_actor::behavior_type probe_impl(instrumented_pointer<probe_actor, probe_state> self, bool quit_at_start) {
  if (quit_at_start) {
    self->quit();
    return probe_actor::behavior_type::make_empty_behavior();
  }
  return {
    [self](ping_atom) { ++self->state.pings; },
    [self](stop_atom) { self->quit(); },
    [self](read_atom) { return self->state.pings; },
    [self](call_atom, const caf::actor& other) {
      self->request(caf::actor_cast<probe_actor>(other), caf::infinite, read_atom::value)
        .await([self](int n) { self->state.answer = n; }, [self](caf::error&) { self->state.answer = -2; });
    },
  };
}

/// The probe type's metrics as numbers, to compare against a baseline.
struct snapshot {
  int64_t live = 0;
  int64_t depth = 0;
  uint64_t messages = 0;
  uint64_t observed = 0;  // handling_seconds _count

  static snapshot now() {
    static const auto m = actor_type_metrics::of(probe_state::name);
    return {m.live.value(), m.mailbox_depth.value(), m.messages.value(), m.handling_seconds.count()};
  }
};

struct fixture : test_coordinator_fixture<> {
  // The registry is process-wide and other tests of this suite ran before: every
  // check is against the values when this test started.
  snapshot base = snapshot::now();
  std::vector<probe_actor> probes;

  probe_actor spawn_probe(bool quit_at_start = false) {
    probes.push_back(sys.spawn(probe_impl, quit_at_start));
    return probes.back();
  }

  int64_t live() const { return snapshot::now().live - base.live; }
  int64_t depth() const { return snapshot::now().depth - base.depth; }
  uint64_t messages() const { return snapshot::now().messages - base.messages; }
  uint64_t observed() const { return snapshot::now().observed - base.observed; }

  /// The pings `p` has handled: its answer to `read` (one more message it handles).
  int pings_of(const probe_actor& p) {
    int n = -1;
    auto answer = self->request(p, caf::infinite, read_atom::value);
    sched.run();
    answer.receive([&](int x) { n = x; }, [](caf::error&) {});
    return n;
  }

  ~fixture() {
    for (auto& p : probes)
      anon_send_exit(p, caf::exit_reason::user_shutdown);
    sched.run();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(actor_instrumentation_tests, fixture)

CAF_TEST(the live count goes up at spawn and down when the actor ends) {
  auto a = spawn_probe();
  auto b = spawn_probe();
  auto c = spawn_probe();
  CAF_CHECK_EQUAL(live(), 3);
  sched.run();
  CAF_CHECK_EQUAL(live(), 3);
  self->send(a, stop_atom::value);  // quits by itself
  sched.run();
  CAF_CHECK_EQUAL(live(), 2);
  anon_send_exit(b, caf::exit_reason::user_shutdown);  // killed
  sched.run();
  CAF_CHECK_EQUAL(live(), 1);
  // An actor that quits while it starts was alive, briefly.
  spawn_probe(true);
  CAF_CHECK_EQUAL(live(), 2);
  sched.run();
  CAF_CHECK_EQUAL(live(), 1);
  anon_send_exit(c, caf::exit_reason::user_shutdown);
  sched.run();
  CAF_CHECK_EQUAL(live(), 0);
}

CAF_TEST(the mailbox depth is what is enqueued and not yet handled) {
  auto a = spawn_probe();
  auto b = spawn_probe();
  sched.run();
  CAF_CHECK_EQUAL(depth(), 0);
  for (int i = 0; i < 4; ++i)
    self->send(a, ping_atom::value);
  self->send(b, ping_atom::value);
  CAF_CHECK_EQUAL(depth(), 5);  // both mailboxes of the type
  CAF_CHECK_EQUAL(messages(), 0u);
  CAF_CHECK(sched.try_run_once());  // one actor runs
  CAF_CHECK_EQUAL(depth() + static_cast<int64_t>(messages()), 5);
  sched.run();
  CAF_CHECK_EQUAL(depth(), 0);
  CAF_CHECK_EQUAL(messages(), 5u);
  CAF_CHECK_EQUAL(pings_of(a), 4);
  CAF_CHECK_EQUAL(pings_of(b), 1);
}

CAF_TEST(messages_total and the histogram count exactly the messages handled) {
  auto a = spawn_probe();
  sched.run();
  for (int i = 0; i < 7; ++i)
    self->send(a, ping_atom::value);
  sched.run();
  CAF_CHECK_EQUAL(messages(), 7u);
  CAF_CHECK_EQUAL(observed(), 7u);
  CAF_CHECK_EQUAL(pings_of(a), 7);
  CAF_CHECK_EQUAL(messages(), 8u);  // the read just now
  CAF_CHECK_EQUAL(observed(), 8u);
}

CAF_TEST(a message skipped while awaiting a response is counted once when handled) {
  auto a = spawn_probe();
  auto b = spawn_probe();
  sched.run();
  self->send(b, ping_atom::value);
  sched.run();
  const auto before = messages();
  // a asks b and awaits; the pings reach a before the answer and are skipped (kept
  // in the mailbox) until the answer is handled.
  self->send(a, call_atom::value, caf::actor_cast<caf::actor>(b));
  self->send(a, ping_atom::value);
  self->send(a, ping_atom::value);
  sched.run();
  // a: call, the answer, 2 pings; b: the read. Counting each skip too would give 7.
  CAF_CHECK_EQUAL(messages() - before, 5u);
  CAF_CHECK_EQUAL(observed(), messages());
  CAF_CHECK_EQUAL(depth(), 0);
  CAF_CHECK_EQUAL(pings_of(a), 2);
}

CAF_TEST(depth returns to its baseline when an actor ends with messages queued) {
  auto a = spawn_probe();
  auto b = spawn_probe();
  auto c = spawn_probe();
  sched.run();
  // a and b quit at their first message; the rest is still queued then.
  self->send(a, stop_atom::value);
  for (int i = 0; i < 3; ++i)
    self->send(a, ping_atom::value);
  self->send(b, stop_atom::value);
  for (int i = 0; i < 5; ++i)
    self->send(b, ping_atom::value);
  CAF_CHECK_EQUAL(depth(), 10);
  sched.run();
  CAF_CHECK_EQUAL(live(), 1);
  CAF_CHECK_EQUAL(depth(), 0);
  CAF_CHECK_EQUAL(messages(), 2u);  // the two stops; no ping was handled
  CAF_CHECK_EQUAL(observed(), 2u);
  // c is killed with pings queued (how many it handles first is the scheduler's business).
  for (int i = 0; i < 4; ++i)
    self->send(c, ping_atom::value);
  anon_send_exit(c, caf::exit_reason::kill);
  CAF_CHECK_EQUAL(depth(), 5);
  sched.run();
  CAF_CHECK_EQUAL(live(), 0);
  CAF_CHECK_EQUAL(depth(), 0);
  CAF_CHECK_EQUAL(observed(), messages());
  // Sent after the end (the handles still reference the actors): bounced, not counted.
  const auto handled = messages();
  self->send(a, ping_atom::value);
  self->send(b, ping_atom::value);
  int bounced = 0;
  auto answer = self->request(b, caf::infinite, read_atom::value);
  sched.run();
  answer.receive([](int) {}, [&](caf::error&) { ++bounced; });
  CAF_CHECK_EQUAL(bounced, 1);
  CAF_CHECK_EQUAL(depth(), 0);
  CAF_CHECK_EQUAL(messages(), handled);
}

CAF_TEST(the type label is the state name and the families are exposed) {
  auto a = spawn_probe();
  self->send(a, ping_atom::value);
  sched.run();
  const auto text = metrics::registry::global().expose();
  for (const char* series : {"relayhost_actor_live{type=\"test_probe\"} 1\n",
                             "relayhost_actor_mailbox_depth{type=\"test_probe\"} 0\n",
                             "relayhost_actor_messages_total{type=\"test_probe\"}",
                             "relayhost_actor_handling_seconds_count{type=\"test_probe\"}",
                             "relayhost_actor_handling_seconds_bucket{type=\"test_probe\",le=\"1e-06\"}",
                             "relayhost_actor_handling_seconds_bucket{type=\"test_probe\",le=\"5\"}"})
    CHECK_MSG(text.find(series) != std::string::npos, series);
  CAF_CHECK(text.find("# TYPE relayhost_actor_mailbox_depth gauge") != std::string::npos);
  CAF_CHECK(text.find("# TYPE relayhost_actor_handling_seconds histogram") != std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()
