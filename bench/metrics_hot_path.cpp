// The metrics hot path: ns per inc() on a cached handle and per with({...}).inc()
// (lookup + inc), with 1 and 2 threads, next to a plain relaxed atomic on one cache
// line (what an unsharded counter would cost). Usage: bench_metrics_hot_path [millions]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics.hpp"

using namespace relayhost;

namespace {

struct alignas(64) plain_counter {
  std::atomic<std::uint64_t> value{0};
};

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

struct timing {
  double wall_ns; // wall clock per operation of one thread
  double cpu_ns;  // CPU time per operation, averaged over the threads: unlike wall time
                  // it is not inflated when the machine is busy and a thread waits
};

// Runs `body(iterations)` on `threads` threads started together.
template <class Body> timing run(int threads, std::uint64_t iterations, Body body) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<double> cpu{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      ready.fetch_add(1);
      while (!go.load()) {
      }
      const double start = thread_cpu_ns();
      body(iterations);
      const double used = thread_cpu_ns() - start;
      double cur = cpu.load();
      while (!cpu.compare_exchange_weak(cur, cur + used)) {
      }
    });
  while (ready.load() < threads) {
  }
  const auto start = std::chrono::steady_clock::now();
  go.store(true);
  for (auto& th : pool)
    th.join();
  const auto ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  const auto n = static_cast<double>(iterations);
  return {ns / n, cpu.load() / threads / n};
}

void report(const char* what, int threads, timing t) {
  std::printf("%-50s %d thread%s  wall %7.2f ns/op  cpu %7.2f ns/op\n", what, threads,
              threads == 1 ? " " : "s", t.wall_ns, t.cpu_ns);
}

} // namespace

int main(int argc, char** argv) {
  const std::uint64_t n = (argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20) * 1'000'000;
  std::printf("%llu ops per thread, %u hardware threads\n", static_cast<unsigned long long>(n),
              std::thread::hardware_concurrency());

  metrics::registry reg;
  auto& requests =
      reg.counter_family("bench_http_requests_total", "h", {"route", "method", "status"});
  // A realistic family: 200 children already there.
  for (int i = 0; i < 200; ++i)
    requests.with({"/v1/route/" + std::to_string(i), "GET", "200"});
  auto& cached = requests.with({"/v1/tenants/{id}", "GET", "200"});
  auto& latency =
      reg.histogram_family("bench_latency_seconds", "h", {}, metrics::default_duration_buckets())
          .with({});
  auto& depth = reg.gauge_family("bench_depth", "h").with({});
  auto& sharded_depth = reg.sharded_gauge_family("bench_sharded_depth", "h").with({});
  plain_counter plain;

  for (int threads : {1, 2}) {
    report("counter inc(), cached handle (sharded)", threads, run(threads, n, [&](std::uint64_t k) {
             for (std::uint64_t i = 0; i < k; ++i)
               cached.inc();
           }));
    report("baseline: one relaxed fetch_add, one cache line", threads,
           run(threads, n, [&](std::uint64_t k) {
             for (std::uint64_t i = 0; i < k; ++i)
               plain.value.fetch_add(1, std::memory_order_relaxed);
           }));
    report("with({route, method, status}).inc()", threads,
           run(threads, n / 4, [&](std::uint64_t k) {
             const std::string route = "/v1/tenants/{id}";
             for (std::uint64_t i = 0; i < k; ++i)
               requests.with({route, "GET", "200"}).inc();
           }));
    report("histogram observe() (11 buckets)", threads, run(threads, n / 4, [&](std::uint64_t k) {
             for (std::uint64_t i = 0; i < k; ++i)
               latency.observe(0.003 * static_cast<double>(i & 1023));
           }));
    report("gauge inc()", threads, run(threads, n / 4, [&](std::uint64_t k) {
             for (std::uint64_t i = 0; i < k; ++i)
               depth.inc();
           }));
    report("sharded gauge inc()", threads, run(threads, n / 4, [&](std::uint64_t k) {
             for (std::uint64_t i = 0; i < k; ++i)
               sharded_depth.inc();
           }));
  }
  const auto start = std::chrono::steady_clock::now();
  const auto text = reg.expose();
  std::printf(
      "expose(): %zu bytes, %.1f us\n", text.size(),
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  // Totals, so nothing above can be optimised away.
  std::printf("check: %llu %llu %llu\n", static_cast<unsigned long long>(cached.value()),
              static_cast<unsigned long long>(plain.value.load()),
              static_cast<unsigned long long>(latency.count()));
}
