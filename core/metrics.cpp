// The metrics registry (see metrics.hpp): registration, child creation (the slow
// path), Prometheus text exposition and the process_* metrics.
#include "core/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <typeinfo>

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/log.hpp"

namespace relayhost::metrics {

namespace {

// Above this, a counter's shards cost more memory (64 B each, per child) than the
// contention they save.
constexpr unsigned max_counter_shards = 16;

// A family's hash table never grows (readers walk it without a lock), so it is sized
// for max_children up to this many buckets; larger limits get longer chains.
constexpr std::size_t max_index_buckets = 4096;

std::size_t next_pow2(std::size_t n) {
  std::size_t p = 1;
  while (p < n)
    p <<= 1;
  return p;
}

unsigned counter_shard_count() {
  static const unsigned n = static_cast<unsigned>(
      next_pow2(std::clamp(std::thread::hardware_concurrency(), 1u, max_counter_shards)));
  return n;
}

[[noreturn]] void invalid(std::string what) { throw std::invalid_argument(std::move(what)); }

// --- text format -------------------------------------------------------------

constexpr std::string_view replacement_char = "\xEF\xBF\xBD"; // U+FFFD

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or 0 if it is not well-formed.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80)
    return 1;
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF; // range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0)
      lo = 0xA0;
    if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0)
      lo = 0x90;
    if (c == 0xF4)
      hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size())
    return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi)
    return 0;
  for (std::size_t k = 2; k < len; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF)
      return 0;
  return len;
}

// Appends `s` as valid UTF-8 (ill-formed bytes become U+FFFD), escaping `\` and
// newline, and `"` too when `quote`.
void append_escaped(std::string& out, std::string_view s, bool quote) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t len = utf8_sequence_length(s, i);
    if (len == 0) {
      out += replacement_char;
      ++i;
      continue;
    }
    if (len == 1) {
      const char c = s[i];
      if (c == '\\')
        out += "\\\\";
      else if (c == '\n')
        out += "\\n";
      else if (c == '"' && quote)
        out += "\\\"";
      else
        out += c;
    } else {
      out.append(s.data() + i, len);
    }
    i += len;
  }
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

// Shortest text that reads back as the same double; Prometheus' spellings for the
// non-finite values.
void append_double(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, res.ptr);
  }
}

std::string_view type_name(metric_type t) {
  switch (t) {
    case metric_type::counter: return "counter";
    case metric_type::gauge: return "gauge";
    case metric_type::histogram: return "histogram";
  }
  return "untyped";
}

void append_header(std::string& out, const family_base& f) {
  out += "# HELP ";
  out += f.name();
  out += ' ';
  append_escaped(out, f.help(), false);
  out += "\n# TYPE ";
  out += f.name();
  out += ' ';
  out += type_name(f.type());
  out += '\n';
}

// `name{a="x",b="y"}` (just `name` without labels); `extra` is a last label (le).
void append_series(std::string& out, std::string_view name, std::string_view suffix,
                   const std::vector<std::string>& names, const std::vector<std::string>& values,
                   std::string_view extra_name = {}, std::string_view extra_value = {}) {
  out += name;
  out += suffix;
  if (names.empty() && extra_name.empty())
    return;
  out += '{';
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i)
      out += ',';
    out += names[i];
    out += "=\"";
    append_escaped(out, values[i], true);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty())
      out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

// --- validation --------------------------------------------------------------

void validate(metric_type type, std::string_view name,
              std::initializer_list<std::string_view> label_names, std::size_t max_children) {
  if (!valid_metric_name(name))
    invalid("invalid metric name '" + std::string(name) + "'");
  for (auto it = label_names.begin(); it != label_names.end(); ++it) {
    if (!valid_label_name(*it))
      invalid("metric " + std::string(name) + ": invalid label name '" + std::string(*it) + "'");
    if (std::find(label_names.begin(), it, *it) != it)
      invalid("metric " + std::string(name) + ": duplicate label name '" + std::string(*it) + "'");
    if (type == metric_type::histogram && *it == "le")
      invalid("histogram " + std::string(name) + ": the label name 'le' is reserved");
  }
  if (max_children == 0)
    invalid("metric " + std::string(name) + ": max_children must be > 0");
}

std::vector<double> validated_bounds(std::string_view name, std::vector<double> bounds) {
  if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0)
    bounds.pop_back();
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]))
      invalid("histogram " + std::string(name) + ": bucket bounds must be finite");
    if (i && !(bounds[i - 1] < bounds[i]))
      invalid("histogram " + std::string(name) + ": bucket bounds must be strictly increasing");
  }
  return bounds;
}

std::vector<std::string> to_strings(std::initializer_list<std::string_view> v) {
  return {v.begin(), v.end()};
}

// The sample names a family writes, which no other family may write.
std::vector<std::string> sample_names(const family_base& f) {
  if (f.type() != metric_type::histogram)
    return {f.name()};
  return {f.name(), f.name() + "_bucket", f.name() + "_sum", f.name() + "_count"};
}

bool same_definition(const family_base& a, const family_base& b) {
  if (typeid(a) != typeid(b) || a.type() != b.type() || a.help() != b.help() ||
      a.label_names() != b.label_names() || a.max_children() != b.max_children())
    return false;
  if (auto* ha = dynamic_cast<const family<histogram>*>(&a))
    return ha->bounds() == static_cast<const family<histogram>&>(b).bounds();
  return true;
}

} // namespace

bool valid_metric_name(std::string_view name) noexcept {
  if (name.empty())
    return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
      return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) noexcept {
  if (name.empty() || name.substr(0, 2) == "__")
    return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
      return false;
  }
  return true;
}

std::vector<double> default_duration_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> linear_buckets(double start, double width, std::size_t count) {
  std::vector<double> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i)
    out.push_back(start + width * static_cast<double>(i));
  return out;
}

std::vector<double> exponential_buckets(double start, double factor, std::size_t count) {
  if (!(start > 0) || !(factor > 1))
    invalid("exponential_buckets: need start > 0, factor > 1");
  std::vector<double> out;
  out.reserve(count);
  for (double b = start; out.size() < count; b *= factor)
    out.push_back(b);
  return out;
}

// --- children ----------------------------------------------------------------

unsigned detail::assign_thread_slot() noexcept {
  static std::atomic<unsigned> next{0};
  this_thread_slot = next.fetch_add(1, std::memory_order_relaxed) & 0x7fffffffu;
  return this_thread_slot;
}

counter::counter()
    : shards_(new detail::counter_shard[counter_shard_count()]),
      shard_mask_(counter_shard_count() - 1) {}

std::uint64_t counter::value() const noexcept {
  std::uint64_t sum = 0;
  for (unsigned i = 0; i <= shard_mask_; ++i)
    sum += shards_[i].value.load(std::memory_order_relaxed);
  return sum;
}

sharded_gauge::sharded_gauge()
    : shards_(new detail::counter_shard[counter_shard_count()]),
      shard_mask_(counter_shard_count() - 1) {}

std::int64_t sharded_gauge::value() const noexcept {
  std::uint64_t sum = 0;
  for (unsigned i = 0; i <= shard_mask_; ++i)
    sum += shards_[i].value.load(std::memory_order_relaxed);
  return static_cast<std::int64_t>(sum); // modulo 2^64: a negative level reads back as such
}

namespace {
std::uint64_t double_bits(double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits;
}
double bits_double(std::uint64_t bits) {
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}
std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }
} // namespace

histogram::histogram(const std::vector<double>& bounds)
    : bounds_(bounds),
      cells_per_shard_(round_up(1 + bounds.size() + 1, detail::histogram_line::cells)),
      shard_mask_(counter_shard_count() - 1),
      lines_(new detail::histogram_line[counter_shard_count() * cells_per_shard_ /
                                        detail::histogram_line::cells]) {
  for (unsigned s = 0; s <= shard_mask_; ++s)
    for (std::size_t i = 0; i < cells_per_shard_; ++i)
      cell(s, i).store(i == 0 ? double_bits(0.0) : 0, std::memory_order_relaxed);
}

void histogram::observe(double v) noexcept {
  if (std::isnan(v))
    return;
  // `le` is inclusive: v lands in the first bucket whose bound is >= v.
  const auto i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                          bounds_.begin());
  const unsigned shard = detail::thread_slot() & shard_mask_;
  cell(shard, 1 + i).fetch_add(1, std::memory_order_relaxed);
  auto& sum = cell(shard, 0);
  std::uint64_t cur = sum.load(std::memory_order_relaxed);
  while (!sum.compare_exchange_weak(cur, double_bits(bits_double(cur) + v),
                                    std::memory_order_relaxed)) {
  }
}

std::vector<std::uint64_t> histogram::cumulative_counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  for (unsigned s = 0; s <= shard_mask_; ++s)
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] += cell(s, 1 + i).load(std::memory_order_relaxed);
  std::uint64_t running = 0;
  for (auto& n : out) {
    running += n;
    n = running;
  }
  return out;
}

std::uint64_t histogram::count() const noexcept {
  std::uint64_t n = 0;
  for (unsigned s = 0; s <= shard_mask_; ++s)
    for (std::size_t i = 0; i <= bounds_.size(); ++i)
      n += cell(s, 1 + i).load(std::memory_order_relaxed);
  return n;
}

double histogram::sum() const noexcept {
  double total = 0;
  for (unsigned s = 0; s <= shard_mask_; ++s)
    total += bits_double(cell(s, 0).load(std::memory_order_relaxed));
  return total;
}

std::size_t detail::hash_labels(const std::string_view* values, std::size_t n) noexcept {
  std::size_t h = 0x9e3779b97f4a7c15ull;
  for (std::size_t i = 0; i < n; ++i)
    h ^= std::hash<std::string_view>{}(values[i]) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h;
}

detail::child_index::child_index(std::string family_name, std::size_t label_count,
                                 std::size_t max_children, factory make)
    : family_name_(std::move(family_name)), label_count_(label_count), max_children_(max_children),
      make_(std::move(make)),
      mask_(label_count == 0 ? 0 : next_pow2(std::min(max_children, max_index_buckets)) - 1),
      buckets_(new std::atomic<child_node*>[mask_ + 1]) {
  for (std::size_t i = 0; i <= mask_; ++i)
    buckets_[i].store(nullptr, std::memory_order_relaxed);
}

detail::child_index::~child_index() = default;

void detail::child_index::wrong_label_count(std::size_t n) const {
  invalid("metric " + family_name_ + ": " + std::to_string(n) + " label values for " +
          std::to_string(label_count_) + " label names");
}

detail::child_node& detail::child_index::insert_locked(const std::string_view* values,
                                                       std::size_t hash) {
  auto node = make_();
  node->label_values.assign(values, values + label_count_);
  node->hash = hash;
  auto& head = buckets_[hash & mask_];
  node->next = head.load(std::memory_order_relaxed);
  children_.push_back(std::move(node)); // owned before readers can see it
  child_node* published = children_.back().get();
  head.store(published, std::memory_order_release);
  return *published;
}

detail::child_node& detail::child_index::get_slow(const std::string_view* values,
                                                  std::size_t hash) {
  std::lock_guard lock{mutex_};
  if (child_node* c = find(values, hash))
    return *c;
  if (child_node* o = overflow_.load(std::memory_order_relaxed))
    return *o;
  if (children_.size() < max_children_)
    return insert_locked(values, hash);
  // Full: this and every later new tuple is counted under "other".
  const std::vector<std::string_view> other(label_count_, overflow_label_value);
  const std::size_t other_hash = hash_labels(other.data(), label_count_);
  child_node* o = find(other.data(), other_hash);
  if (!o)
    o = &insert_locked(other.data(), other_hash);
  overflow_.store(o, std::memory_order_release);
  log::warn("metric over its label limit; new label values are counted as \"other\"",
            {{"metric", family_name_}, {"max_children", std::to_string(max_children_)}});
  return *o;
}

std::vector<const detail::child_node*> detail::child_index::sorted() const {
  std::vector<const child_node*> out;
  {
    std::lock_guard lock{mutex_};
    out.reserve(children_.size());
    for (auto& c : children_)
      out.push_back(c.get());
  }
  std::sort(out.begin(), out.end(), [](const child_node* a, const child_node* b) {
    return a->label_values < b->label_values;
  });
  return out;
}

std::size_t detail::child_index::size() const {
  std::lock_guard lock{mutex_};
  return children_.size();
}

// --- families ----------------------------------------------------------------

family_base::family_base(metric_type type, std::string name, std::string help,
                         std::vector<std::string> label_names, std::size_t max_children)
    : name_(std::move(name)), help_(std::move(help)), type_(type),
      label_names_(std::move(label_names)), max_children_(max_children) {}

family_base::~family_base() = default;

namespace {
template <class T> constexpr metric_type type_of();
template <> constexpr metric_type type_of<counter>() { return metric_type::counter; }
template <> constexpr metric_type type_of<gauge>() { return metric_type::gauge; }
template <> constexpr metric_type type_of<sharded_gauge>() { return metric_type::gauge; }
template <> constexpr metric_type type_of<histogram>() { return metric_type::histogram; }
} // namespace

template <class T>
family<T>::family(std::string name, std::string help, std::vector<std::string> label_names,
                  std::size_t max_children, std::vector<double> bounds)
    : family_base(type_of<T>(), name, std::move(help), label_names, max_children),
      bounds_(std::move(bounds)), index_(std::move(name), label_names.size(), max_children, [this] {
        if constexpr (std::is_same_v<T, histogram>)
          return std::unique_ptr<detail::child_node>(new detail::node<T>(bounds_));
        else
          return std::unique_ptr<detail::child_node>(new detail::node<T>());
      }) {
  // A family without labels has exactly one child: expose it (as 0) from the start.
  if (label_names.empty())
    index_.get(nullptr, 0);
}

template <class T> T& family<T>::with(const std::vector<std::string>& label_values) {
  const std::vector<std::string_view> views(label_values.begin(), label_values.end());
  return static_cast<detail::node<T>&>(index_.get(views.data(), views.size())).metric;
}

template <> void family<counter>::render(std::string& out) const {
  append_header(out, *this);
  for (const auto* c : index_.sorted()) {
    append_series(out, name(), {}, label_names(), c->label_values);
    out += ' ';
    append_uint(out, static_cast<const detail::node<counter>*>(c)->metric.value());
    out += '\n';
  }
}

template <> void family<gauge>::render(std::string& out) const {
  append_header(out, *this);
  for (const auto* c : index_.sorted()) {
    append_series(out, name(), {}, label_names(), c->label_values);
    out += ' ';
    append_double(out, static_cast<const detail::node<gauge>*>(c)->metric.value());
    out += '\n';
  }
}

template <> void family<sharded_gauge>::render(std::string& out) const {
  append_header(out, *this);
  for (const auto* c : index_.sorted()) {
    append_series(out, name(), {}, label_names(), c->label_values);
    out += ' ';
    append_int(out, static_cast<const detail::node<sharded_gauge>*>(c)->metric.value());
    out += '\n';
  }
}

template <> void family<histogram>::render(std::string& out) const {
  append_header(out, *this);
  std::vector<std::string> le(bounds_.size());
  for (std::size_t i = 0; i < bounds_.size(); ++i)
    append_double(le[i], bounds_[i]);
  for (const auto* c : index_.sorted()) {
    const auto& h = static_cast<const detail::node<histogram>*>(c)->metric;
    // Read the sum first: a concurrent observation then shows in the counts no later
    // than in the sum.
    const double sum = h.sum();
    const auto counts = h.cumulative_counts();
    for (std::size_t i = 0; i < counts.size(); ++i) {
      append_series(out, name(), "_bucket", label_names(), c->label_values, "le",
                    i < le.size() ? std::string_view{le[i]} : std::string_view{"+Inf"});
      out += ' ';
      append_uint(out, counts[i]);
      out += '\n';
    }
    append_series(out, name(), "_sum", label_names(), c->label_values);
    out += ' ';
    append_double(out, sum);
    out += '\n';
    append_series(out, name(), "_count", label_names(), c->label_values);
    out += ' ';
    append_uint(out, counts.back());
    out += '\n';
  }
}

template class family<counter>;
template class family<gauge>;
template class family<sharded_gauge>;
template class family<histogram>;

callback_family::callback_family(metric_type type, std::string name, std::string help,
                                 std::vector<std::string> label_names, std::size_t max_children,
                                 callback fn)
    : family_base(type, std::move(name), std::move(help), std::move(label_names), max_children),
      fn_(std::move(fn)) {}

void callback_family::set_callback(callback fn) {
  std::lock_guard lock{mutex_};
  fn_ = std::move(fn);
}

void callback_family::render(std::string& out) const {
  append_header(out, *this);
  std::vector<labeled_value> samples;
  {
    std::lock_guard lock{mutex_};
    if (!fn_)
      return;
    try {
      samples = fn_();
    } catch (const std::exception& e) {
      log::warn("metric callback failed", {{"metric", name()}, {"error", e.what()}});
      return;
    } catch (...) {
      log::warn("metric callback failed", {{"metric", name()}});
      return;
    }
  }
  const std::size_t labels = label_names().size();
  const auto wrong = std::remove_if(samples.begin(), samples.end(), [&](const labeled_value& s) {
    return s.label_values.size() != labels;
  });
  if (wrong != samples.end()) {
    log::warn("metric callback returned samples with the wrong number of label values",
              {{"metric", name()}, {"dropped", std::to_string(samples.end() - wrong)}});
    samples.erase(wrong, samples.end());
  }
  auto by_labels = [](const labeled_value& a, const labeled_value& b) {
    return a.label_values < b.label_values;
  };
  std::sort(samples.begin(), samples.end(), by_labels);
  // One series per tuple: duplicates are summed.
  std::vector<labeled_value> merged;
  for (auto& s : samples) {
    if (!merged.empty() && merged.back().label_values == s.label_values)
      merged.back().value += s.value;
    else
      merged.push_back(std::move(s));
  }
  if (merged.size() > max_children()) {
    labeled_value rest{std::vector<std::string>(labels, std::string(overflow_label_value)), 0};
    for (std::size_t i = max_children(); i < merged.size(); ++i)
      rest.value += merged[i].value;
    merged.resize(max_children());
    auto it = std::lower_bound(merged.begin(), merged.end(), rest, by_labels);
    if (it != merged.end() && it->label_values == rest.label_values)
      it->value += rest.value;
    else
      merged.insert(it, std::move(rest));
  }
  for (const auto& s : merged) {
    append_series(out, name(), {}, label_names(), s.label_values);
    out += ' ';
    append_double(out, s.value);
    out += '\n';
  }
}

// --- registry ----------------------------------------------------------------

registry::registry() = default;
registry::~registry() = default;

registry& registry::global() {
  // Deliberately leaked: metrics are incremented from threads and static objects that
  // may outlive any destruction order we could choose.
  static registry* const instance = [] {
    auto* r = new registry();
    register_process_metrics(*r);
    return r;
  }();
  return *instance;
}

family_base& registry::add(std::unique_ptr<family_base> fam) {
  std::lock_guard lock{mutex_};
  if (auto it = by_name_.find(fam->name()); it != by_name_.end()) {
    if (!same_definition(*it->second, *fam))
      invalid("metric " + fam->name() + " registered twice with different definitions");
    return *it->second;
  }
  const auto names = sample_names(*fam);
  for (const auto& n : names)
    if (auto it = sample_names_.find(n); it != sample_names_.end())
      invalid("metric " + fam->name() + ": sample name " + n + " is already written by " +
              it->second);
  for (const auto& n : names)
    sample_names_.emplace(n, fam->name());
  by_name_.emplace(fam->name(), fam.get());
  families_.push_back(std::move(fam));
  return *families_.back();
}

template <class T>
family<T>& registry::add_family(std::string_view name, std::string_view help,
                                std::initializer_list<std::string_view> label_names,
                                std::size_t max_children, std::vector<double> bounds) {
  validate(type_of<T>(), name, label_names, max_children);
  auto& f =
      add(std::make_unique<family<T>>(std::string(name), std::string(help), to_strings(label_names),
                                      max_children, std::move(bounds)));
  return static_cast<family<T>&>(f); // same_definition compared the dynamic types
}

family<counter>& registry::counter_family(std::string_view name, std::string_view help,
                                          std::initializer_list<std::string_view> label_names,
                                          std::size_t max_children) {
  return add_family<counter>(name, help, label_names, max_children, {});
}

family<gauge>& registry::gauge_family(std::string_view name, std::string_view help,
                                      std::initializer_list<std::string_view> label_names,
                                      std::size_t max_children) {
  return add_family<gauge>(name, help, label_names, max_children, {});
}

family<sharded_gauge>&
registry::sharded_gauge_family(std::string_view name, std::string_view help,
                               std::initializer_list<std::string_view> label_names,
                               std::size_t max_children) {
  return add_family<sharded_gauge>(name, help, label_names, max_children, {});
}

family<histogram>& registry::histogram_family(std::string_view name, std::string_view help,
                                              std::initializer_list<std::string_view> label_names,
                                              std::vector<double> bounds,
                                              std::size_t max_children) {
  return add_family<histogram>(name, help, label_names, max_children,
                               validated_bounds(name, std::move(bounds)));
}

namespace {
callback_family::callback unlabeled(std::function<double()> fn) {
  if (!fn)
    return {};
  return [fn = std::move(fn)] { return std::vector<labeled_value>{{{}, fn()}}; };
}
} // namespace

void registry::add_callback(metric_type type, std::string_view name, std::string_view help,
                            std::initializer_list<std::string_view> label_names,
                            callback_family::callback fn, std::size_t max_children) {
  validate(type, name, label_names, max_children);
  auto candidate = std::make_unique<callback_family>(type, std::string(name), std::string(help),
                                                     to_strings(label_names), max_children, fn);
  auto* fam = candidate.get();
  auto& registered = static_cast<callback_family&>(add(std::move(candidate)));
  // Registered before: swap the callback, outside the registry lock (set_callback
  // waits for a running callback, which may itself register metrics).
  if (&registered != fam)
    registered.set_callback(std::move(fn));
}

void registry::gauge_callback(std::string_view name, std::string_view help,
                              std::function<double()> fn) {
  add_callback(metric_type::gauge, name, help, {}, unlabeled(std::move(fn)), default_max_children);
}

void registry::gauge_callback(std::string_view name, std::string_view help,
                              std::initializer_list<std::string_view> label_names,
                              callback_family::callback fn, std::size_t max_children) {
  add_callback(metric_type::gauge, name, help, label_names, std::move(fn), max_children);
}

void registry::counter_callback(std::string_view name, std::string_view help,
                                std::function<double()> fn) {
  add_callback(metric_type::counter, name, help, {}, unlabeled(std::move(fn)),
               default_max_children);
}

void registry::counter_callback(std::string_view name, std::string_view help,
                                std::initializer_list<std::string_view> label_names,
                                callback_family::callback fn, std::size_t max_children) {
  add_callback(metric_type::counter, name, help, label_names, std::move(fn), max_children);
}

bool registry::remove_callback(std::string_view name) {
  callback_family* fam = nullptr;
  {
    std::lock_guard lock{mutex_};
    auto it = by_name_.find(std::string(name));
    if (it == by_name_.end())
      return false;
    fam = dynamic_cast<callback_family*>(it->second);
  }
  if (!fam)
    return false;
  fam->set_callback({});
  return true;
}

std::string registry::expose() const {
  std::vector<const family_base*> families;
  {
    // Families are never removed; render outside the lock so callbacks may register.
    std::lock_guard lock{mutex_};
    families.reserve(families_.size());
    for (auto& f : families_)
      families.push_back(f.get());
  }
  std::string out;
  for (const auto* f : families)
    f->render(out);
  return out;
}

// --- process metrics ---------------------------------------------------------

namespace {

std::vector<labeled_value> one(double v) { return {{{}, v}}; }

// Seconds since the epoch at which this process started: boot time (btime in
// /proc/stat) plus the process' start in clock ticks after boot (/proc/self/stat,
// field 22). The clock at the first call if /proc does not say.
double process_start_time() {
  const double fallback = static_cast<double>(std::time(nullptr));
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  const auto paren = stat.rfind(')'); // the command name may hold spaces and parens
  if (paren == std::string::npos)
    return fallback;
  std::istringstream fields(stat.substr(paren + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
  }
  unsigned long long start_ticks = 0;
  if (std::from_chars(field.data(), field.data() + field.size(), start_ticks).ec != std::errc{})
    return fallback;
  std::ifstream boot("/proc/stat");
  std::string key;
  unsigned long long btime = 0;
  while (boot >> key) {
    if (key == "btime" && boot >> btime)
      break;
    boot.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  const long ticks_per_second = sysconf(_SC_CLK_TCK);
  if (btime == 0 || ticks_per_second <= 0)
    return fallback;
  return static_cast<double>(btime) +
         static_cast<double>(start_ticks) / static_cast<double>(ticks_per_second);
}

// Pages of virtual (index 0) or resident (index 1) memory from /proc/self/statm.
std::vector<labeled_value> statm_bytes(int index) {
  std::ifstream statm("/proc/self/statm");
  unsigned long long pages[2] = {0, 0};
  if (!(statm >> pages[0] >> pages[1]))
    return {};
  return one(static_cast<double>(pages[index]) * static_cast<double>(sysconf(_SC_PAGESIZE)));
}

} // namespace

void register_process_metrics(registry& reg) {
  const double start = process_start_time();
  reg.gauge_callback("process_start_time_seconds",
                     "Start time of the process since unix epoch in seconds.",
                     [start] { return start; });
  reg.counter_callback(
      "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", {}, [] {
        rusage ru{};
        if (getrusage(RUSAGE_SELF, &ru) != 0)
          return std::vector<labeled_value>{};
        auto secs = [](const timeval& tv) {
          return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
        };
        return one(secs(ru.ru_utime) + secs(ru.ru_stime));
      });
  reg.gauge_callback("process_resident_memory_bytes", "Resident memory size in bytes.", {},
                     [] { return statm_bytes(1); });
  reg.gauge_callback("process_virtual_memory_bytes", "Virtual memory size in bytes.", {},
                     [] { return statm_bytes(0); });
  reg.gauge_callback("process_open_fds", "Number of open file descriptors.", {}, [] {
    DIR* dir = opendir("/proc/self/fd");
    if (!dir)
      return std::vector<labeled_value>{};
    double n = 0;
    while (const dirent* e = readdir(dir))
      if (e->d_name[0] != '.')
        ++n;
    closedir(dir);
    return one(n - 1); // not the descriptor of the listing itself
  });
  reg.gauge_callback("process_max_fds", "Maximum number of open file descriptors.", {}, [] {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
      return std::vector<labeled_value>{};
    return one(static_cast<double>(rl.rlim_cur));
  });
}

} // namespace relayhost::metrics
