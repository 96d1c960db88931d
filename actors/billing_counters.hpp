// Invoicing counters (tenant actors and the billing scheduler write them; /metrics
// reads them from any thread).
#pragma once

#include <atomic>
#include <cstdint>

namespace relayhost {

/// Invoicing counters, read by /metrics from any thread.
struct billing_counters {
  std::atomic<uint64_t> periods_closed{0}, invoices_created{0}, bolt11_issued{0}, bolt11_renewed{0};
  std::atomic<uint64_t> wallet_errors{0}, passes{0};
  std::atomic<int64_t> last_pass_millis{0}, last_pass_invoices{0};
  std::atomic<uint64_t> pass_millis_total{0};
  // Collection (issue 15).
  std::atomic<uint64_t> invoices_paid{0}, pay_attempts{0}, pay_failures{0}, lookups{0};
};

} // namespace relayhost
