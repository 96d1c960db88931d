// The cost of actors/instrumented.hpp per message: the same actor type spawned
// plain (caf::stateful_actor) and instrumented, messages sent from 1 or 2 threads
// to 1 or 64 actors on CAF's scheduler, ns per message (best of `rounds`, plain and
// instrumented alternating so a busy moment of the machine hits both), wall time
// and CPU time of the process; plus the hooks alone without CAF (what enqueue +
// consume add, on one thread).
// Usage: bench_actor_instrumentation [messages_millions=2] [rounds=5]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "actors/fwd.hpp"
#include "actors/instrumented.hpp"

using namespace relayhost;

namespace {

using clock_type = std::chrono::steady_clock;

using bench_actor = caf::typed_actor<caf::reacts_to<ping_atom>, caf::replies_to<read_atom>::with<uint64_t>>;

struct bench_state {
  static inline const char* name = "bench";
  uint64_t pings = 0;
};

template <class Self> bench_actor::behavior_type bench_impl(Self self) {
  return {
    [self](ping_atom) { ++self->state.pings; },
    [self](read_atom) { return self->state.pings; },
  };
}

bench_actor::behavior_type plain_impl(bench_actor::stateful_pointer<bench_state> self) {
  return bench_impl(self);
}

bench_actor::behavior_type instrumented_impl(instrumented_pointer<bench_actor, bench_state> self) {
  return bench_impl(self);
}

double cpu_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

/// Per message: wall time, and CPU time of the whole process (all threads: senders,
/// CAF workers). CPU time is not inflated when other work shares the machine.
struct cost {
  double wall_ns = 1e300;
  double cpu_ns = 1e300;
  void keep_best(cost c) {
    wall_ns = std::min(wall_ns, c.wall_ns);
    cpu_ns = std::min(cpu_ns, c.cpu_ns);
  }
};

/// `messages` pings spread over `actors` actors, sent by `senders` threads, until
/// every actor has handled its share.
template <class F> cost run(caf::actor_system& sys, F impl, size_t actors, size_t senders, uint64_t messages) {
  std::vector<bench_actor> targets;
  for (size_t i = 0; i < actors; ++i)
    targets.push_back(sys.spawn(impl));
  const uint64_t per_sender = messages / senders;
  const auto start = clock_type::now();
  const double cpu_start = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
  std::vector<std::thread> threads;
  for (size_t s = 0; s < senders; ++s)
    threads.emplace_back([&, s] {
      for (uint64_t i = 0; i < per_sender; ++i)
        caf::anon_send(targets[(i + s) % actors], ping_atom::value);
    });
  for (auto& t : threads)
    t.join();
  caf::scoped_actor self{sys};
  uint64_t handled = 0;
  // Every ping is queued before its actor's read (the senders have joined), so the
  // read is answered after them.
  for (auto& t : targets)
    self->request(t, caf::infinite, read_atom::value).receive([&](uint64_t n) { handled += n; }, [](caf::error&) {});
  const auto ns = std::chrono::duration<double, std::nano>(clock_type::now() - start).count();
  const double cpu = cpu_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
  for (auto& t : targets)
    self->send_exit(t, caf::exit_reason::user_shutdown);
  if (handled != per_sender * senders)
    std::fprintf(stderr, "error: %llu of %llu pings handled\n",
                 static_cast<unsigned long long>(handled), static_cast<unsigned long long>(per_sender * senders));
  const auto n = static_cast<double>(per_sender * senders);
  return {ns / n, cpu / n};
}

/// What the hooks add to one message, without CAF: the enqueue side (pending +1,
/// depth +1, closed check stands in as a load) and the consume side (two clock
/// reads, pending −1, depth −1, counter +1, histogram observe).
double hooks_alone(uint64_t n) {
  const auto m = actor_type_metrics::of("bench_hooks");
  std::atomic<int64_t> pending{0};
  std::atomic<bool> closed{false};
  const double start = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
  for (uint64_t i = 0; i < n; ++i) {
    pending.fetch_add(1, std::memory_order_relaxed);
    m.mailbox_depth.inc();
    if (closed.load())
      break;
    const auto t0 = clock_type::now();
    const auto took = clock_type::now() - t0;
    pending.fetch_sub(1, std::memory_order_relaxed);
    m.mailbox_depth.dec();
    m.messages.inc();
    m.handling_seconds.observe(std::chrono::duration<double>(took).count());
  }
  return (cpu_ns(CLOCK_THREAD_CPUTIME_ID) - start) / static_cast<double>(n);
}

} // namespace

int main(int argc, char** argv) {
  const uint64_t messages = (argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2) * 1'000'000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::printf("%llu messages per run, best of %d, %u hardware threads, %zu CAF workers\n",
              static_cast<unsigned long long>(messages), rounds, std::thread::hardware_concurrency(),
              sys.scheduler().num_workers());
  double hooks = 1e300;
  for (int r = 0; r < rounds; ++r)
    hooks = std::min(hooks, hooks_alone(messages));
  std::printf("hooks alone (no CAF, 1 thread): cpu %.1f ns/msg\n", hooks);
  struct shape {
    size_t actors, senders;
  };
  for (auto [actors, senders] : {shape{1, 1}, shape{64, 1}, shape{64, 2}}) {
    cost plain, instrumented;
    for (int r = 0; r < rounds; ++r) {
      plain.keep_best(run(sys, plain_impl, actors, senders, messages));
      instrumented.keep_best(run(sys, instrumented_impl, actors, senders, messages));
    }
    std::printf("%2zu actor(s), %zu sender(s): plain wall %6.1f cpu %6.1f | instrumented wall %6.1f cpu %6.1f"
                " | overhead wall %+6.1f cpu %+6.1f ns/msg\n",
                actors, senders, plain.wall_ns, plain.cpu_ns, instrumented.wall_ns, instrumented.cpu_ns,
                instrumented.wall_ns - plain.wall_ns, instrumented.cpu_ns - plain.cpu_ns);
  }
  sys.await_all_actors_done();
  const auto m = actor_type_metrics::of(bench_state::name);
  std::printf("check: bench messages_total %llu, mailbox depth %lld, live %lld\n",
              static_cast<unsigned long long>(m.messages.value()), static_cast<long long>(m.mailbox_depth.value()),
              static_cast<long long>(m.live.value()));
}
