// The metrics registry: counters, gauges and histograms in families with fixed label
// names, exposed in the Prometheus text format 0.0.4 at GET /metrics. CAF 0.17 has no
// telemetry, so relayhost carries its own. Pure: no CAF, no Beast, no I/O but /proc.
//
// Adding a metric is one line at its use site:
//   static auto& requests = metrics::counter_family(
//       "relayhost_http_requests_total", "HTTP requests by route, method and status",
//       {"route", "method", "status"});
//   requests.with({route, method, "200"}).inc();
//
// Hot path: an increment is one relaxed atomic add on storage owned by the child
// (counters, sharded gauges and histograms are sharded across cache lines by thread,
// so threads do not bounce one line). `with()` finds a child without any lock; a
// mutex is taken only to create a child. Children are never freed before their registry, so a reference returned by
// `with()` can be cached for the life of the registry (forever for the global one).
//
// Cardinality is bounded: each family holds at most `max_children` label tuples; any
// tuple beyond that lands in one overflow child whose label values are all "other".
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace relayhost::metrics {

/// The Content-Type of `registry::expose()`.
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

/// Label tuples a family holds before new ones go to the overflow child.
inline constexpr std::size_t default_max_children = 1000;

/// The label value of every label of the overflow child.
inline constexpr std::string_view overflow_label_value = "other";

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`.
bool valid_metric_name(std::string_view name) noexcept;

/// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with "__" (reserved by Prometheus).
bool valid_label_name(std::string_view name) noexcept;

/// Prometheus' default buckets, in seconds: .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10.
std::vector<double> default_duration_buckets();

/// `count` bounds: start, start + width, …
std::vector<double> linear_buckets(double start, double width, std::size_t count);

/// `count` bounds: start, start * factor, … (start > 0, factor > 1).
std::vector<double> exponential_buckets(double start, double factor, std::size_t count);

namespace detail {

/// The shard this thread increments. Threads take consecutive slots on first use, so
/// as many threads as a counter has shards (hardware threads rounded up to a power of
/// two, at most 16) never share its cache lines.
inline thread_local unsigned this_thread_slot = ~0u;
unsigned assign_thread_slot() noexcept;
inline unsigned thread_slot() noexcept {
  unsigned s = this_thread_slot;
  return s != ~0u ? s : assign_thread_slot();
}

struct alignas(64) counter_shard {
  std::atomic<std::uint64_t> value{0};
};

} // namespace detail

/// A monotonically increasing integer count, sharded across cache lines by thread
/// (threads incrementing the same counter do not bounce one line between cores).
class counter {
public:
  counter();
  counter(const counter&) = delete;
  counter& operator=(const counter&) = delete;

  void inc(std::uint64_t n = 1) noexcept {
    shards_[detail::thread_slot() & shard_mask_].value.fetch_add(n, std::memory_order_relaxed);
  }

  /// The sum over all shards (exact once writers have stopped).
  std::uint64_t value() const noexcept;

private:
  std::unique_ptr<detail::counter_shard[]> shards_;
  unsigned shard_mask_;
};

/// A value that goes up and down.
class gauge {
public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void inc(double d = 1) noexcept { add(d); }
  void dec(double d = 1) noexcept { add(-d); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  void add(double d) noexcept {
    double cur = value_.load(std::memory_order_relaxed);
    while (!value_.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
    }
  }
  std::atomic<double> value_{0};
};

/// A gauge that moves only by whole steps, sharded across cache lines by thread like
/// `counter`: for levels that many threads change on a hot path (mailbox depths, live
/// actors), where `gauge`'s one CAS'd line would bounce between cores. No set(): the
/// value is the sum of every thread's steps. A read racing with writers may see one
/// step without another that happened before it on another thread (an inc without
/// its matching dec, or the reverse): off by the steps in flight, exact at rest.
class sharded_gauge {
public:
  sharded_gauge();
  sharded_gauge(const sharded_gauge&) = delete;
  sharded_gauge& operator=(const sharded_gauge&) = delete;

  // Steps are added modulo 2^64 (two's complement), so a dec on one shard and the
  // inc on another still sum exactly.
  void inc(std::int64_t n = 1) noexcept { add(static_cast<std::uint64_t>(n)); }
  void dec(std::int64_t n = 1) noexcept { add(0 - static_cast<std::uint64_t>(n)); }

  /// The sum over all shards (exact once writers have stopped).
  std::int64_t value() const noexcept;

private:
  void add(std::uint64_t n) noexcept {
    shards_[detail::thread_slot() & shard_mask_].value.fetch_add(n, std::memory_order_relaxed);
  }
  std::unique_ptr<detail::counter_shard[]> shards_;
  unsigned shard_mask_;
};

namespace detail {
/// One cache line of a histogram shard.
struct alignas(64) histogram_line {
  static constexpr std::size_t cells = 64 / sizeof(std::atomic<std::uint64_t>);
  std::atomic<std::uint64_t> cell[cells];
};
} // namespace detail

/// Observations counted in fixed buckets. Buckets are stored non-cumulative (one
/// relaxed add per observation) and summed into cumulative `le` buckets when exposed;
/// `_count` is the sum of all buckets, so it always equals the `+Inf` bucket. The sum
/// is a double accumulated with a relaxed CAS loop: exact for values that are exact
/// in binary, with no fixed resolution imposed on small values. NaN is ignored (it
/// would poison `_sum` for the life of the process). Buckets and sum are sharded by
/// thread like `counter` (each shard on its own cache lines), so threads observing
/// the same histogram (every actor of one type) do not contend.
class histogram {
public:
  /// `bounds`: finite, strictly increasing upper bounds; must outlive the histogram.
  explicit histogram(const std::vector<double>& bounds);
  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

  void observe(double v) noexcept;

  /// Upper bounds, without the implicit +Inf.
  const std::vector<double>& bounds() const noexcept { return bounds_; }
  /// Cumulative counts, one per bound plus the last for +Inf.
  std::vector<std::uint64_t> cumulative_counts() const;
  std::uint64_t count() const noexcept;
  double sum() const noexcept;

private:
  // Cell 0 of a shard holds the bits of its sum (a double); cells 1… its buckets.
  std::atomic<std::uint64_t>& cell(unsigned shard, std::size_t i) const noexcept {
    const std::size_t k = shard * cells_per_shard_ + i;
    return lines_[k / detail::histogram_line::cells].cell[k % detail::histogram_line::cells];
  }

  const std::vector<double>& bounds_;
  std::size_t cells_per_shard_; // whole cache lines: 1 + bounds_.size() + 1, rounded up
  unsigned shard_mask_;
  std::unique_ptr<detail::histogram_line[]> lines_;
};

/// Observes the seconds between construction and destruction into a histogram.
class scoped_timer {
public:
  explicit scoped_timer(histogram& h) noexcept : h_(h), start_(std::chrono::steady_clock::now()) {}
  scoped_timer(const scoped_timer&) = delete;
  scoped_timer& operator=(const scoped_timer&) = delete;
  ~scoped_timer() {
    h_.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }

private:
  histogram& h_;
  std::chrono::steady_clock::time_point start_;
};

enum class metric_type { counter, gauge, histogram };

/// What all families share: identity and rendering.
class family_base {
public:
  virtual ~family_base();
  family_base(const family_base&) = delete;
  family_base& operator=(const family_base&) = delete;

  const std::string& name() const noexcept { return name_; }
  const std::string& help() const noexcept { return help_; }
  metric_type type() const noexcept { return type_; }
  const std::vector<std::string>& label_names() const noexcept { return label_names_; }
  std::size_t max_children() const noexcept { return max_children_; }

protected:
  family_base(metric_type type, std::string name, std::string help,
              std::vector<std::string> label_names, std::size_t max_children);

private:
  friend class registry;
  /// Appends `# HELP`, `# TYPE` and the samples.
  virtual void render(std::string& out) const = 0;

  std::string name_;
  std::string help_;
  metric_type type_;
  std::vector<std::string> label_names_;
  std::size_t max_children_;
};

namespace detail {

/// One label tuple's identity; the metric itself lives in `node<T>`. Immutable once
/// published to readers.
struct child_node {
  virtual ~child_node() = default;
  std::vector<std::string> label_values;
  std::size_t hash = 0;
  child_node* next = nullptr; // bucket chain
};

template <class T> struct node final : child_node {
  template <class... Args> explicit node(Args&&... args) : metric(std::forward<Args>(args)...) {}
  T metric;
};

std::size_t hash_labels(const std::string_view* values, std::size_t n) noexcept;

/// The children of a family: a fixed-size hash table whose chains only ever grow at
/// their head, so readers walk it without a lock (acquire loads of the heads);
/// creation is serialised by a mutex. Nothing is removed before destruction.
class child_index {
public:
  using factory = std::function<std::unique_ptr<child_node>()>;

  child_index(std::string family_name, std::size_t label_count, std::size_t max_children,
              factory make);
  ~child_index();

  child_node& get(const std::string_view* values, std::size_t n) {
    if (n != label_count_)
      wrong_label_count(n);
    const std::size_t h = hash_labels(values, n);
    if (child_node* c = find(values, h))
      return *c;
    if (child_node* o = overflow_.load(std::memory_order_acquire)) {
      // The miss above may predate the family filling up: another thread can have
      // added this tuple and then the overflow between the two loads. Every child
      // was added before the overflow was published, so after the acquire load
      // above a second look sees it; a miss now is final.
      if (child_node* c = find(values, h))
        return *c;
      return *o;
    }
    return get_slow(values, h);
  }

  /// Children ordered by label values (stable exposition).
  std::vector<const child_node*> sorted() const;
  std::size_t size() const;

private:
  child_node* find(const std::string_view* values, std::size_t h) const noexcept {
    for (child_node* c = buckets_[h & mask_].load(std::memory_order_acquire); c; c = c->next)
      if (c->hash == h && equal(*c, values))
        return c;
    return nullptr;
  }
  bool equal(const child_node& c, const std::string_view* values) const noexcept {
    for (std::size_t i = 0; i < label_count_; ++i)
      if (c.label_values[i] != values[i])
        return false;
    return true;
  }
  [[noreturn]] void wrong_label_count(std::size_t n) const;
  child_node& get_slow(const std::string_view* values, std::size_t hash);
  child_node& insert_locked(const std::string_view* values, std::size_t hash);

  std::string family_name_;
  std::size_t label_count_;
  std::size_t max_children_;
  factory make_;
  std::size_t mask_;
  std::unique_ptr<std::atomic<child_node*>[]> buckets_;
  std::atomic<child_node*> overflow_{nullptr};
  mutable std::mutex mutex_; // guards children_ and creation
  std::vector<std::unique_ptr<child_node>> children_;
};

} // namespace detail

/// A family of `counter`, `gauge` or `histogram` children, one per label tuple.
template <class T> class family final : public family_base {
public:
  /// The child for these label values (as many as label names), created on first use.
  /// The reference stays valid for the life of the registry.
  T& with(std::initializer_list<std::string_view> label_values) {
    return static_cast<detail::node<T>&>(index_.get(label_values.begin(), label_values.size()))
        .metric;
  }
  T& with(const std::vector<std::string>& label_values);

  /// Children held, the overflow child included (at most max_children() + 1).
  std::size_t size() const { return index_.size(); }

  /// Histograms only: the bucket bounds given at registration.
  const std::vector<double>& bounds() const noexcept { return bounds_; }

  family(std::string name, std::string help, std::vector<std::string> label_names,
         std::size_t max_children, std::vector<double> bounds = {});

private:
  void render(std::string& out) const override;

  std::vector<double> bounds_;
  detail::child_index index_;
};

template <> void family<counter>::render(std::string& out) const;
template <> void family<gauge>::render(std::string& out) const;
template <> void family<sharded_gauge>::render(std::string& out) const;
template <> void family<histogram>::render(std::string& out) const;
extern template class family<counter>;
extern template class family<gauge>;
extern template class family<sharded_gauge>;
extern template class family<histogram>;

/// One sample of a callback family: label values (as many as label names) and value.
struct labeled_value {
  std::vector<std::string> label_values;
  double value = 0;
};

/// A family whose samples are computed at scrape time by a callback.
class callback_family final : public family_base {
public:
  using callback = std::function<std::vector<labeled_value>()>;

  callback_family(metric_type type, std::string name, std::string help,
                  std::vector<std::string> label_names, std::size_t max_children, callback fn);

  /// Replaces the callback; an empty one exposes no samples. Waits for a running call.
  void set_callback(callback fn);

private:
  void render(std::string& out) const override;

  mutable std::mutex mutex_; // held while the callback runs, so replacing it is safe
  callback fn_;
};

/// The set of families one `/metrics` exposes. Thread-safe.
class registry {
public:
  registry();
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  /// The process-wide registry, with the process_* metrics. Never destroyed, so
  /// cached handles stay valid during static destruction.
  static registry& global();

  // Registration. Names are validated (std::invalid_argument on a bad metric or label
  // name, a duplicate label name, `le` on a histogram, max_children == 0). Registering
  // a name again with the same type, help, label names, limit (and buckets) returns
  // the existing family; with anything different it throws std::invalid_argument.
  family<counter>& counter_family(std::string_view name, std::string_view help,
                                  std::initializer_list<std::string_view> label_names = {},
                                  std::size_t max_children = default_max_children);
  family<gauge>& gauge_family(std::string_view name, std::string_view help,
                              std::initializer_list<std::string_view> label_names = {},
                              std::size_t max_children = default_max_children);
  /// Exposed as a gauge; for levels changed by many threads on a hot path.
  family<sharded_gauge>& sharded_gauge_family(
      std::string_view name, std::string_view help,
      std::initializer_list<std::string_view> label_names = {},
      std::size_t max_children = default_max_children);
  /// `bounds`: finite and strictly increasing; `+Inf` is implicit (a trailing +Inf is dropped).
  family<histogram>& histogram_family(std::string_view name, std::string_view help,
                                      std::initializer_list<std::string_view> label_names,
                                      std::vector<double> bounds,
                                      std::size_t max_children = default_max_children);

  // Callback families, evaluated at each scrape on the scraping thread: the callback
  // must be thread-safe, and must neither register its own family again nor call
  // expose() (both would wait for the callback itself). Registering the
  // same name again (same type, help, labels) replaces the callback. Samples with
  // the wrong number of label values are dropped, duplicate tuples are summed, and
  // beyond max_children the rest is summed into the "other" tuple.
  void gauge_callback(std::string_view name, std::string_view help, std::function<double()> fn);
  void gauge_callback(std::string_view name, std::string_view help,
                      std::initializer_list<std::string_view> label_names,
                      callback_family::callback fn,
                      std::size_t max_children = default_max_children);
  void counter_callback(std::string_view name, std::string_view help, std::function<double()> fn);
  void counter_callback(std::string_view name, std::string_view help,
                        std::initializer_list<std::string_view> label_names,
                        callback_family::callback fn,
                        std::size_t max_children = default_max_children);

  /// Clears a callback family's callback (e.g. before what it reads is destroyed);
  /// when this returns, the old callback is not running and will not run again.
  /// False if `name` is not a callback family.
  bool remove_callback(std::string_view name);

  /// Prometheus text format 0.0.4: families in registration order, children sorted
  /// by label values.
  std::string expose() const;

private:
  /// Adds `fam`, or returns the family already registered under its name when it is
  /// defined the same way (else throws).
  family_base& add(std::unique_ptr<family_base> fam);
  template <class T>
  family<T>& add_family(std::string_view name, std::string_view help,
                        std::initializer_list<std::string_view> label_names,
                        std::size_t max_children, std::vector<double> bounds);
  void add_callback(metric_type type, std::string_view name, std::string_view help,
                    std::initializer_list<std::string_view> label_names,
                    callback_family::callback fn, std::size_t max_children);

  mutable std::mutex mutex_; // guards the three members below
  std::vector<std::unique_ptr<family_base>> families_;
  std::unordered_map<std::string, family_base*> by_name_;
  std::unordered_map<std::string, std::string> sample_names_; // sample name → family
};

/// Registers process_cpu_seconds_total, process_resident_memory_bytes,
/// process_virtual_memory_bytes, process_start_time_seconds, process_open_fds and
/// process_max_fds (read from /proc and getrusage at scrape time). `global()` has them.
void register_process_metrics(registry& reg);

// The same registration functions on the global registry.
inline family<counter>& counter_family(std::string_view name, std::string_view help,
                                       std::initializer_list<std::string_view> label_names = {},
                                       std::size_t max_children = default_max_children) {
  return registry::global().counter_family(name, help, label_names, max_children);
}
inline family<gauge>& gauge_family(std::string_view name, std::string_view help,
                                   std::initializer_list<std::string_view> label_names = {},
                                   std::size_t max_children = default_max_children) {
  return registry::global().gauge_family(name, help, label_names, max_children);
}
inline family<sharded_gauge>&
sharded_gauge_family(std::string_view name, std::string_view help,
                     std::initializer_list<std::string_view> label_names = {},
                     std::size_t max_children = default_max_children) {
  return registry::global().sharded_gauge_family(name, help, label_names, max_children);
}
inline family<histogram>& histogram_family(std::string_view name, std::string_view help,
                                           std::initializer_list<std::string_view> label_names,
                                           std::vector<double> bounds,
                                           std::size_t max_children = default_max_children) {
  return registry::global().histogram_family(name, help, label_names, std::move(bounds),
                                             max_children);
}
inline void gauge_callback(std::string_view name, std::string_view help,
                           std::function<double()> fn) {
  registry::global().gauge_callback(name, help, std::move(fn));
}
inline void gauge_callback(std::string_view name, std::string_view help,
                           std::initializer_list<std::string_view> label_names,
                           callback_family::callback fn,
                           std::size_t max_children = default_max_children) {
  registry::global().gauge_callback(name, help, label_names, std::move(fn), max_children);
}
inline void counter_callback(std::string_view name, std::string_view help,
                             std::function<double()> fn) {
  registry::global().counter_callback(name, help, std::move(fn));
}
inline void counter_callback(std::string_view name, std::string_view help,
                             std::initializer_list<std::string_view> label_names,
                             callback_family::callback fn,
                             std::size_t max_children = default_max_children) {
  registry::global().counter_callback(name, help, label_names, std::move(fn), max_children);
}
inline bool remove_callback(std::string_view name) {
  return registry::global().remove_callback(name);
}

} // namespace relayhost::metrics
