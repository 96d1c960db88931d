// The Prometheus exposition with any label value: every line of the output is a
// comment or one sample (no raw newline from a label value), and it ends with one.
#include <string>

#include "core/metrics.hpp"
#include "fuzz/fuzz_support.hpp"

using namespace relayhost;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  metrics::registry reg;
  auto [a, b] = fuzz::split(fuzz::text(data, size), '\0');
  reg.counter_family("fuzz_total", "fuzzed labels", {"x", "y"}).with({a, b}).inc();
  reg.gauge_callback("fuzz_level", "fuzzed callback", {"z"}, [v = std::string(a)] {
    return std::vector<metrics::labeled_value>{{{v}, 1.0}};
  });
  auto out = reg.expose();
  FUZZ_CHECK(!out.empty() && out.back() == '\n');
  size_t start = 0;
  while (start < out.size()) {
    auto end = out.find('\n', start);
    auto line = std::string_view(out).substr(start, end - start);
    FUZZ_CHECK(line.empty() || line[0] == '#' || line.rfind("fuzz_", 0) == 0);
    start = end + 1;
  }
  return 0;
}
