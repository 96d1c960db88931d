// core/metrics: values in the exposition, a strict text-format parser over nasty label
// values, cumulative histograms, bounded cardinality, exact totals under concurrency,
// callbacks, name validation.
#define CAF_SUITE core_metrics
#include <caf/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics.hpp"

using namespace relayhost;
using namespace std::string_literals;

namespace {

template <class F> bool throws_invalid_argument(F f) {
  try {
    f();
  } catch (const std::invalid_argument&) {
    return true;
  } catch (...) {
    return false;
  }
  return false;
}

#define CHECK_INVALID(...) CAF_CHECK(throws_invalid_argument([&] { (void)(__VA_ARGS__); }))

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line))
    out.push_back(line);
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  for (const auto& l : lines_of(text))
    if (l == line)
      return true;
  return false;
}

// A sample line of `name` (not its HELP or TYPE comment).
bool has_sample(const std::string& text, const std::string& name) {
  for (const auto& l : lines_of(text))
    if (l.rfind(name + " ", 0) == 0 || l.rfind(name + "{", 0) == 0)
      return true;
  return false;
}

// Every byte sequence is well-formed UTF-8 (RFC 3629).
bool valid_utf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80                 ? 1
                      : c >= 0xC2 && c <= 0xDF ? 2
                      : c >= 0xE0 && c <= 0xEF ? 3
                      : c >= 0xF0 && c <= 0xF4 ? 4
                                               : 0;
    if (len == 0 || i + len > s.size())
      return false;
    for (std::size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80)
        return false;
    const auto c1 = static_cast<unsigned char>(len > 1 ? s[i + 1] : 0);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
        (c == 0xF4 && c1 > 0x8F))
      return false;
    i += len;
  }
  return true;
}

std::string unescape_label_value(const std::string& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\') {
      out += v[i];
      continue;
    }
    const char n = v[++i];
    out += n == 'n' ? '\n' : n; // the regex admits only \\ \" \n
  }
  return out;
}

struct parsed_sample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels; // unescaped values
  std::string value;
};

// A strict reader of the Prometheus text format 0.0.4 as relayhost writes it: fails
// the test on any line it does not accept, on a sample outside its family, on a
// family's HELP/TYPE out of order or repeated, and on invalid UTF-8.
std::vector<parsed_sample> parse_exposition(const std::string& text) {
  static const std::string name = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  static const std::string label = "[a-zA-Z_][a-zA-Z0-9_]*";
  static const std::string value = R"((?:[^"\\\n]|\\[\\"n])*)";
  static const std::string number =
      R"((?:NaN|[+-]?Inf|[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?))";
  static const std::regex help_re("# HELP (" + name + R"() ((?:[^\\\n]|\\[\\n])*))");
  static const std::regex type_re("# TYPE (" + name + ") (counter|gauge|histogram)");
  static const std::regex sample_re("(" + name + ")(?:\\{(" + label + "=\"" + value + "\"(?:," +
                                    label + "=\"" + value + "\")*)\\})? (" + number + ")");
  static const std::regex pair_re("(" + label + ")=\"(" + value + ")\"");

  CAF_CHECK(text.empty() || text.back() == '\n');
  CAF_CHECK(valid_utf8(text));
  std::vector<parsed_sample> out;
  std::set<std::string> seen_families;
  std::string help_for, family, type;
  for (const auto& line : lines_of(text)) {
    std::smatch m;
    if (std::regex_match(line, m, help_re)) {
      CAF_CHECK_EQUAL(seen_families.count(m[1]), 0u);
      help_for = m[1];
      family.clear();
    } else if (std::regex_match(line, m, type_re)) {
      CAF_CHECK_EQUAL(m[1].str(), help_for); // TYPE right after its HELP
      CAF_CHECK(seen_families.insert(m[1]).second);
      family = m[1];
      type = m[2];
    } else if (std::regex_match(line, m, sample_re)) {
      CAF_REQUIRE(!family.empty());
      parsed_sample s{m[1], {}, m[3]};
      if (type == "histogram")
        CAF_CHECK(s.name == family + "_bucket" || s.name == family + "_sum" ||
                  s.name == family + "_count");
      else
        CAF_CHECK_EQUAL(s.name, family);
      const std::string pairs = m[2];
      std::set<std::string> names;
      for (std::sregex_iterator it(pairs.begin(), pairs.end(), pair_re), end; it != end; ++it) {
        CAF_CHECK(names.insert((*it)[1]).second);
        s.labels.emplace_back((*it)[1], unescape_label_value((*it)[2]));
      }
      out.push_back(std::move(s));
    } else {
      CAF_FAIL("line not in the text format: " << line);
    }
  }
  return out;
}

std::string label_of(const parsed_sample& s, const std::string& name) {
  for (const auto& [k, v] : s.labels)
    if (k == name)
      return v;
  return "<missing>";
}

} // namespace

CAF_TEST(values appear exactly in the exposition) {
  metrics::registry reg;
  auto& requests =
      reg.counter_family("rh_requests_total", "Requests by route and status", {"route", "status"});
  requests.with({"/v1/tenants", "200"}).inc();
  requests.with({"/v1/tenants", "200"}).inc(2);
  requests.with({"/healthz", "503"}).inc();
  auto& cached = requests.with({"/healthz", "200"});
  for (int i = 0; i < 5; ++i)
    cached.inc();
  auto& dms = reg.counter_family("rh_dms_sent_total", "DMs sent").with({});
  auto& depth = reg.gauge_family("rh_queue_depth", "Queue depth", {"queue"});
  depth.with({"zooid"}).set(7);
  depth.with({"zooid"}).inc();
  depth.with({"zooid"}).dec(0.5);
  depth.with({"nwc"}).dec();
  auto& latency = reg.histogram_family("rh_latency_seconds", "Latency", {"route"}, {0.25, 0.5, 1});
  for (double v : {0.125, 0.25, 0.5, 0.75, 2.0})
    latency.with({"/a"}).observe(v);

  const std::string expected = "# HELP rh_requests_total Requests by route and status\n"
                               "# TYPE rh_requests_total counter\n"
                               "rh_requests_total{route=\"/healthz\",status=\"200\"} 5\n"
                               "rh_requests_total{route=\"/healthz\",status=\"503\"} 1\n"
                               "rh_requests_total{route=\"/v1/tenants\",status=\"200\"} 3\n"
                               "# HELP rh_dms_sent_total DMs sent\n"
                               "# TYPE rh_dms_sent_total counter\n"
                               "rh_dms_sent_total 0\n"
                               "# HELP rh_queue_depth Queue depth\n"
                               "# TYPE rh_queue_depth gauge\n"
                               "rh_queue_depth{queue=\"nwc\"} -1\n"
                               "rh_queue_depth{queue=\"zooid\"} 7.5\n"
                               "# HELP rh_latency_seconds Latency\n"
                               "# TYPE rh_latency_seconds histogram\n"
                               "rh_latency_seconds_bucket{route=\"/a\",le=\"0.25\"} 2\n"
                               "rh_latency_seconds_bucket{route=\"/a\",le=\"0.5\"} 3\n"
                               "rh_latency_seconds_bucket{route=\"/a\",le=\"1\"} 4\n"
                               "rh_latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 5\n"
                               "rh_latency_seconds_sum{route=\"/a\"} 3.625\n"
                               "rh_latency_seconds_count{route=\"/a\"} 5\n";
  CAF_CHECK_EQUAL(reg.expose(), expected);
  dms.inc();
  CAF_CHECK(has_line(reg.expose(), "rh_dms_sent_total 1"));
  CAF_CHECK_EQUAL(reg.expose(), reg.expose()); // stable
  CAF_CHECK_EQUAL(metrics::content_type, "text/plain; version=0.0.4; charset=utf-8");
}

CAF_TEST(cached handles are stable references) {
  metrics::registry reg;
  auto& fam = reg.counter_family("rh_stable_total", "h", {"k"});
  auto* first = &fam.with({"first"});
  std::vector<metrics::counter*> handles;
  for (int i = 0; i < 900; ++i)
    handles.push_back(&fam.with({std::to_string(i)}));
  CAF_CHECK_EQUAL(&fam.with({"first"}), first);
  for (int i = 0; i < 900; ++i)
    CAF_CHECK_EQUAL(&fam.with({std::to_string(i)}), handles[i]);
  CAF_CHECK_EQUAL(&fam.with(std::vector<std::string>{"first"}), first);
  CAF_CHECK_EQUAL(fam.size(), 901u);
  // Registering the same definition again gives the same family.
  CAF_CHECK_EQUAL(&reg.counter_family("rh_stable_total", "h", {"k"}), &fam);
}

CAF_TEST(a strict parser accepts every line with nasty label values) {
  metrics::registry reg;
  metrics::register_process_metrics(reg);
  const std::vector<std::string> nasty = {
      "plain",
      "quote\"inside",
      "back\\slash",
      "trailing\\",
      "new\nline",
      "\"\\\n\"",
      "",
      "},{=\"\",x=\"y",
      "# HELP fake x",
      " spaces  ",
      "tab\there",
      "cr\rhere",
      "üñíçødé",
      "€ 😀 中文",
      "\\n literal",
      "le=\"+Inf\"",
      std::string(200, '\\'),
  };
  auto& fam = reg.counter_family("rh_nasty_total", "help with \\ backslash\nand newline \"q\"",
                                 {"value", "other_label"});
  auto& hist = reg.histogram_family("rh_nasty_seconds", "h", {"value"}, {0.5, 1});
  auto& g = reg.gauge_family("rh_nasty_gauge", "g", {"value"});
  for (std::size_t i = 0; i < nasty.size(); ++i) {
    fam.with({nasty[i], "x"}).inc(i + 1);
    hist.with({nasty[i]}).observe(0.75);
    g.with({nasty[i]}).set(-1.5e300);
  }
  // Ill-formed UTF-8 is written as U+FFFD so the exposition stays UTF-8.
  fam.with({"bad \xff\xfe utf8 \xed\xa0\x80", "x"}).inc();
  reg.gauge_callback("rh_nasty_callback", "cb", {"value"}, [&] {
    std::vector<metrics::labeled_value> out;
    for (const auto& v : nasty)
      out.push_back({{v}, 1});
    return out;
  });
  g.with({"nan"}).set(std::nan(""));
  g.with({"inf"}).set(HUGE_VAL);
  g.with({"-inf"}).set(-HUGE_VAL);
  g.with({"tiny"}).set(5e-324);

  const auto text = reg.expose();
  const auto samples = parse_exposition(text);
  std::map<std::string, std::string> counter_values;
  std::set<std::string> callback_values;
  for (const auto& s : samples) {
    if (s.name == "rh_nasty_total")
      counter_values[label_of(s, "value")] = s.value;
    if (s.name == "rh_nasty_callback")
      callback_values.insert(label_of(s, "value"));
  }
  for (std::size_t i = 0; i < nasty.size(); ++i) {
    CAF_CHECK_EQUAL(counter_values[nasty[i]], std::to_string(i + 1)); // round-trips
    CAF_CHECK_EQUAL(callback_values.count(nasty[i]), 1u);
  }
  CAF_CHECK_EQUAL(
      counter_values["bad \xEF\xBF\xBD\xEF\xBF\xBD utf8 \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"],
      "1");
  CAF_CHECK_EQUAL(counter_values.size(), nasty.size() + 1);
  CAF_CHECK(has_line(text, "rh_nasty_gauge{value=\"nan\"} NaN"));
  CAF_CHECK(has_line(text, "rh_nasty_gauge{value=\"inf\"} +Inf"));
  CAF_CHECK(has_line(text, "rh_nasty_gauge{value=\"-inf\"} -Inf"));
  CAF_CHECK(has_line(text, "rh_nasty_gauge{value=\"tiny\"} 5e-324"));
  CAF_CHECK(has_line(text, "# HELP rh_nasty_total help with \\\\ backslash\\nand newline \"q\""));

  // The process-wide registry too.
  metrics::counter_family("rh_test_global_total", "global", {"v"}).with({"a\"b\\c\nd"}).inc();
  parse_exposition(metrics::registry::global().expose());
}

CAF_TEST(histogram buckets are cumulative and count equals the + Inf bucket) {
  metrics::registry reg;
  const auto bounds = metrics::exponential_buckets(0.001, 2, 12);
  auto& fam = reg.histogram_family("rh_hist_seconds", "h", {}, bounds);
  CAF_CHECK_EQUAL(fam.bounds(), bounds);
  auto& h = fam.with({});
  std::uint64_t n = 0;
  double sum = 0;
  for (int i = 0; i < 5000; ++i) {
    const double v = static_cast<double>((i * 7919) % 10000) / 1024.0; // exact in binary
    h.observe(v);
    sum += v;
    ++n;
  }
  h.observe(bounds[3]);    // on a bound: counts in that bucket (le is inclusive)
  h.observe(std::nan("")); // ignored
  sum += bounds[3];
  ++n;
  CAF_CHECK_EQUAL(h.count(), n);
  CAF_CHECK_EQUAL(h.sum(), sum);

  std::vector<std::uint64_t> buckets;
  std::vector<std::string> les;
  std::string count_value, sum_value;
  for (const auto& s : parse_exposition(reg.expose())) {
    if (s.name == "rh_hist_seconds_bucket") {
      buckets.push_back(std::stoull(s.value));
      les.push_back(label_of(s, "le"));
    } else if (s.name == "rh_hist_seconds_count") {
      count_value = s.value;
    } else if (s.name == "rh_hist_seconds_sum") {
      sum_value = s.value;
    }
  }
  CAF_REQUIRE_EQUAL(buckets.size(), bounds.size() + 1);
  CAF_CHECK_EQUAL(les.back(), "+Inf");
  for (std::size_t i = 0; i < bounds.size(); ++i)
    CAF_CHECK_EQUAL(std::stod(les[i]), bounds[i]);
  for (std::size_t i = 1; i < buckets.size(); ++i)
    CAF_CHECK(buckets[i - 1] <= buckets[i]);
  CAF_CHECK_EQUAL(count_value, std::to_string(buckets.back()));
  CAF_CHECK_EQUAL(buckets.back(), n);
  CAF_CHECK_EQUAL(std::stod(sum_value), sum);
  // Each cumulative bucket counts exactly the observations <= its bound.
  const auto cumulative = h.cumulative_counts();
  for (std::size_t b = 0; b < bounds.size(); ++b) {
    std::uint64_t expected = bounds[3] <= bounds[b] ? 1 : 0;
    for (int i = 0; i < 5000; ++i)
      if (static_cast<double>((i * 7919) % 10000) / 1024.0 <= bounds[b])
        ++expected;
    CAF_CHECK_EQUAL(cumulative[b], expected);
    CAF_CHECK_EQUAL(buckets[b], expected);
  }
}

CAF_TEST(label cardinality is bounded with an overflow child) {
  metrics::registry reg;
  auto& fam = reg.counter_family("rh_paths_total", "h", {"path", "method"}); // default limit
  CAF_CHECK_EQUAL(fam.max_children(), metrics::default_max_children);
  auto& early = fam.with({"/early", "GET"});
  for (int i = 0; i < 10000; ++i)
    fam.with({"/p/" + std::to_string(i), "GET"}).inc();
  CAF_CHECK_EQUAL(fam.size(), metrics::default_max_children + 1);
  early.inc();
  fam.with({"/early", "GET"}).inc(); // an old tuple keeps its own child
  CAF_CHECK_EQUAL(early.value(), 2u);
  const std::uint64_t kept = metrics::default_max_children - 1; // "/early" took one slot
  CAF_CHECK_EQUAL(fam.with({"/brand-new", "POST"}).value(), 10000 - kept);
  CAF_CHECK_EQUAL(&fam.with({"/another", "PUT"}), &fam.with({"other", "other"}));

  std::size_t series = 0;
  std::uint64_t total = 0;
  for (const auto& s : parse_exposition(reg.expose())) {
    ++series;
    total += std::stoull(s.value);
  }
  CAF_CHECK_EQUAL(series, metrics::default_max_children + 1);
  CAF_CHECK_EQUAL(total, 10000u + 2);
  CAF_CHECK(has_line(reg.expose(), "rh_paths_total{path=\"other\",method=\"other\"} " +
                                       std::to_string(10000 - kept)));

  // A small limit, on histograms and gauges too.
  auto& h = reg.histogram_family("rh_small_seconds", "h", {"k"}, {1}, 10);
  auto& g = reg.gauge_family("rh_small_gauge", "g", {"k"}, 10);
  for (int i = 0; i < 10000; ++i) {
    h.with({std::to_string(i)}).observe(0.5);
    g.with({std::to_string(i)}).inc();
  }
  CAF_CHECK_EQUAL(h.size(), 11u);
  CAF_CHECK_EQUAL(g.size(), 11u);
  CAF_CHECK_EQUAL(h.with({"other"}).count(), 10000u - 10);
  CAF_CHECK_EQUAL(g.with({"other"}).value(), 10000.0 - 10);
}

CAF_TEST(concurrent increments give exact totals) {
  metrics::registry reg;
  constexpr int threads = 4;
  constexpr int per_thread = 1'000'000;
  auto& fam = reg.counter_family("rh_conc_total", "h", {"thread"});
  auto& shared = fam.with({"shared"});
  auto& hist = reg.histogram_family("rh_conc_seconds", "h", {}, {0.5, 1}).with({});
  auto& gauge = reg.gauge_family("rh_conc_gauge", "g").with({});
  auto& racy = reg.counter_family("rh_conc_created_total", "h", {"k"});
  std::atomic<int> ready{0};
  std::atomic<int> tight_done{0};
  std::atomic<int> done{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      // All start the tight loop at once, so they really contend.
      ready.fetch_add(1);
      while (ready.load() < threads) {
      }
      const std::string mine = "t" + std::to_string(t);
      for (int i = 0; i < per_thread; ++i)
        shared.inc();
      tight_done.fetch_add(1);
      for (int i = 0; i < per_thread; ++i)
        fam.with({mine}).inc(); // lookup every time
      for (int i = 0; i < 100'000; ++i) {
        hist.observe(i % 2 ? 0.25 : 1.5);
        gauge.inc();
      }
      for (int i = 0; i < 2000; ++i)
        racy.with({std::to_string(i)}).inc(); // same new tuples
      done.fetch_add(1);
    });
  while (tight_done.load() < threads)
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  while (done.load() < threads)
    parse_exposition(reg.expose()); // scrapes during the writes
  for (auto& th : pool)
    th.join();

  CAF_CHECK_EQUAL(shared.value(), std::uint64_t{threads} * per_thread);
  for (int t = 0; t < threads; ++t)
    CAF_CHECK_EQUAL(fam.with({"t" + std::to_string(t)}).value(), std::uint64_t{per_thread});
  CAF_CHECK_EQUAL(hist.count(), threads * 100'000u);
  const auto cumulative = hist.cumulative_counts();
  CAF_CHECK_EQUAL(cumulative[0], threads * 50'000u);
  CAF_CHECK_EQUAL(hist.sum(), threads * 50'000 * (0.25 + 1.5));
  CAF_CHECK_EQUAL(gauge.value(), threads * 100'000.0);
  CAF_CHECK_EQUAL(racy.size(), metrics::default_max_children + 1);
  std::uint64_t racy_total = 0;
  for (int i = 0; i < 2000; ++i)
    racy_total += racy.with({std::to_string(i)}).value();
  // Tuples past the limit all read the overflow child; the kept ones are exact.
  CAF_CHECK_EQUAL(racy.with({"other"}).value(),
                  std::uint64_t{threads} * (2000 - metrics::default_max_children));
  for (int i = 0; i < 2000; ++i) {
    auto& c = racy.with({std::to_string(i)});
    if (&c != &racy.with({"other"}))
      CAF_CHECK_EQUAL(c.value(), std::uint64_t{threads});
  }
  CAF_CHECK(racy_total > 0);
}

CAF_TEST(sharded gauges expose the sum of the steps of every thread) {
  metrics::registry reg;
  auto& fam = reg.sharded_gauge_family("rh_depth", "Depth", {"type"});
  auto& a = fam.with({"a"});
  a.inc(5);
  a.dec(7);
  fam.with({"b"}).inc();
  CAF_CHECK_EQUAL(a.value(), -2);
  CAF_CHECK_EQUAL(reg.expose(), "# HELP rh_depth Depth\n"
                                "# TYPE rh_depth gauge\n"
                                "rh_depth{type=\"a\"} -2\n"
                                "rh_depth{type=\"b\"} 1\n");
  // Steps up on some threads and down on others (other shards) cancel exactly.
  constexpr int threads = 4;
  constexpr int per_thread = 500'000;
  auto& level = fam.with({"c"});
  std::atomic<int> ready{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < threads) {
      }
      for (int i = 0; i < per_thread; ++i) {
        if (t % 2)
          level.dec();
        else
          level.inc();
      }
      level.inc(t + 1);
    });
  for (auto& th : pool)
    th.join();
  CAF_CHECK_EQUAL(level.value(), 1 + 2 + 3 + 4);
  CAF_CHECK(has_line(reg.expose(), "rh_depth{type=\"c\"} 10"));
  // A name is one family of one kind.
  CHECK_INVALID(reg.gauge_family("rh_depth", "Depth", {"type"}));
  CAF_CHECK_EQUAL(&reg.sharded_gauge_family("rh_depth", "Depth", {"type"}), &fam);
}

CAF_TEST(callback gauges are read at scrape time) {
  metrics::registry reg;
  std::atomic<int> loaded{3};
  reg.gauge_callback("rh_loaded", "Loaded", [&] { return double(loaded.load()); });
  reg.counter_callback("rh_cb_total", "cb counter", [] { return 12.0; });
  std::map<std::string, double> by_status{{"active", 2}, {"suspended", 1}};
  reg.gauge_callback("rh_tenants", "Tenants by status", {"status"}, [&] {
    std::vector<metrics::labeled_value> out;
    for (auto& [k, v] : by_status)
      out.push_back({{k}, v});
    out.push_back({{"active"}, 1});        // a duplicate tuple is summed
    out.push_back({{"too", "many"}, 100}); // wrong arity is dropped
    return out;
  });
  reg.gauge_callback("rh_throws", "Throws", []() -> double { throw std::runtime_error("x"); });
  reg.gauge_callback(
      "rh_capped", "Capped", {"k"},
      [] {
        std::vector<metrics::labeled_value> out;
        for (int i = 0; i < 50; ++i)
          out.push_back({{"k" + std::to_string(i)}, 1});
        return out;
      },
      5);

  auto text = reg.expose();
  parse_exposition(text);
  CAF_CHECK(has_line(text, "rh_loaded 3"));
  CAF_CHECK(has_line(text, "# TYPE rh_cb_total counter"));
  CAF_CHECK(has_line(text, "rh_cb_total 12"));
  CAF_CHECK(has_line(text, "rh_tenants{status=\"active\"} 3"));
  CAF_CHECK(has_line(text, "rh_tenants{status=\"suspended\"} 1"));
  CAF_CHECK(text.find("too") == std::string::npos);
  CAF_CHECK(has_line(text, "# TYPE rh_throws gauge"));
  CAF_CHECK(!has_sample(text, "rh_throws"));
  CAF_CHECK(has_line(text, "rh_capped{k=\"other\"} 45"));
  std::size_t capped = 0;
  for (const auto& l : lines_of(text))
    if (l.rfind("rh_capped{", 0) == 0)
      ++capped;
  CAF_CHECK_EQUAL(capped, 6u);

  loaded = 9;
  CAF_CHECK(has_line(reg.expose(), "rh_loaded 9"));
  // Registering again replaces the callback; removing it leaves HELP/TYPE only.
  reg.gauge_callback("rh_loaded", "Loaded", [] { return 42.0; });
  CAF_CHECK(has_line(reg.expose(), "rh_loaded 42"));
  CAF_CHECK(reg.remove_callback("rh_loaded"));
  text = reg.expose();
  CAF_CHECK(has_line(text, "# TYPE rh_loaded gauge"));
  CAF_CHECK(!has_sample(text, "rh_loaded"));
  CAF_CHECK(!reg.remove_callback("rh_nope"));
  reg.gauge_family("rh_plain", "p");
  CAF_CHECK(!reg.remove_callback("rh_plain"));
  // A callback may register metrics (expose holds no registry lock while it runs).
  reg.gauge_callback("rh_registers", "r", [&reg] {
    reg.counter_family("rh_from_callback_total", "c").with({}).inc();
    return 1.0;
  });
  reg.expose();
  CAF_CHECK(has_line(reg.expose(), "rh_from_callback_total 2"));
}

CAF_TEST(process metrics are plausible) {
  metrics::registry reg;
  metrics::register_process_metrics(reg);
  std::map<std::string, double> v;
  for (const auto& s : parse_exposition(reg.expose()))
    v[s.name] = std::stod(s.value);
  const double now = static_cast<double>(std::time(nullptr));
  CAF_CHECK(v["process_start_time_seconds"] > now - 86400);
  CAF_CHECK(v["process_start_time_seconds"] <= now + 1);
  CAF_CHECK(v["process_resident_memory_bytes"] > 1e5);
  CAF_CHECK(v["process_virtual_memory_bytes"] >= v["process_resident_memory_bytes"]);
  CAF_CHECK(v["process_open_fds"] >= 3);
  CAF_CHECK(v.count("process_cpu_seconds_total") == 1);
  CAF_CHECK(v["process_cpu_seconds_total"] >= 0);
  CAF_CHECK(has_line(reg.expose(), "# TYPE process_cpu_seconds_total counter"));
}

CAF_TEST(bad names and definitions throw) {
  metrics::registry reg;
  for (const char* bad : {"", "1abc", "a-b", "a b", "caf\xc3\xa9", "a{b}", "a\"b", "a\n"}) {
    CHECK_INVALID(reg.counter_family(bad, "h"));
    CHECK_INVALID(reg.gauge_callback(bad, "h", [] { return 1.0; }));
  }
  for (const char* bad : {"", "1a", "a:b", "a-b", "__reserved", "é"})
    CHECK_INVALID(reg.gauge_family("rh_ok", "h", {"fine", bad}));
  CHECK_INVALID(reg.counter_family("rh_dup", "h", {"a", "a"}));
  CHECK_INVALID(reg.histogram_family("rh_h", "h", {"le"}, {1}));
  CHECK_INVALID(reg.histogram_family("rh_h", "h", {}, {1, 1}));
  CHECK_INVALID(reg.histogram_family("rh_h", "h", {}, {2, 1}));
  CHECK_INVALID(reg.histogram_family("rh_h", "h", {}, {std::nan("")}));
  CHECK_INVALID(reg.counter_family("rh_zero", "h", {"a"}, 0));
  CAF_CHECK_EQUAL(reg.expose(), ""); // nothing half-registered

  // Good names, including colons in metric names and a trailing +Inf bound (dropped).
  reg.counter_family("ns:rh_ok_total", "h", {"_x", "Y1"});
  CAF_CHECK_EQUAL(reg.histogram_family("rh_h", "h", {}, {1, HUGE_VAL}).bounds().size(), 1u);

  // Same name, different definition.
  reg.counter_family("rh_c_total", "help", {"a"});
  CHECK_INVALID(reg.counter_family("rh_c_total", "other help", {"a"}));
  CHECK_INVALID(reg.counter_family("rh_c_total", "help", {"b"}));
  CHECK_INVALID(reg.counter_family("rh_c_total", "help", {"a"}, 5));
  CHECK_INVALID(reg.gauge_family("rh_c_total", "help", {"a"}));
  CHECK_INVALID(reg.gauge_callback("rh_c_total", "help", {"a"},
                                   [] { return std::vector<metrics::labeled_value>{}; }));
  CHECK_INVALID(reg.histogram_family("rh_h", "h", {}, {2}));
  // Sample names a histogram writes are taken.
  CHECK_INVALID(reg.counter_family("rh_h_count", "h"));
  reg.gauge_family("rh_x_sum", "h");
  CHECK_INVALID(reg.histogram_family("rh_x", "h", {}, {1}));
  // Wrong number of label values.
  auto& fam = reg.counter_family("rh_c_total", "help", {"a"});
  CHECK_INVALID(fam.with({}));
  CHECK_INVALID(fam.with({"x", "y"}));
  CHECK_INVALID(fam.with(std::vector<std::string>{}));
  CAF_CHECK_EQUAL(fam.size(), 0u);
  CHECK_INVALID(metrics::exponential_buckets(0, 2, 3));
  CAF_CHECK_EQUAL(metrics::linear_buckets(1, 0.5, 3), (std::vector<double>{1, 1.5, 2}));
}
