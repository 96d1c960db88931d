// What a period costs, from the relay activity log (billing.md "Periods and the
// amount due"). A relay's item amount is
//     ceil( Σ over its segments of price(plan) × active_seconds / period_seconds )
// rounded up once per relay, in exact integer arithmetic. A segment is a stretch of
// the period during which the relay was active (status active: suspension and
// delinquency do not count) on one plan. Inputs are log rows, never a relay's
// current row. Pure: no I/O, no clock, no floating point.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "billing/period.hpp"
#include "domain/model.hpp"
#include "domain/plans.hpp"

namespace relayhost::billing {

struct segment {
  std::string plan;
  int64_t active_seconds = 0;
  /// This segment's own share, ceil(price × active_seconds / period_seconds):
  /// informative; the item amount is rounded once over all segments, so the
  /// segments' amounts can add up to a sat or two more than the item.
  int64_t amount_sats = 0;
};

struct relay_item {
  std::string relay_id;
  std::string plan;             // the plan at period end
  int64_t amount_sats = 0;
  int64_t active_seconds = 0;   // on any plan, free ones included
  int64_t active_hours = 0;     // ceil(active_seconds / 3600)
  std::vector<segment> segments;  // every segment, in time order (the API shows them when > 1)
};

/// The item of one relay for period `p`. `log` is that relay's activity rows in
/// log order (`at` ascending; rows with the same `at` in insertion order: the
/// later one wins). The state at the period's start is the last row at or before
/// it; rows at or after the end do not count. nullopt when the relay did not exist
/// before the period ended. Throws std::domain_error naming the plan when an active
/// segment is on a plan the catalog does not have (a removed plan must never make
/// a relay free).
std::optional<relay_item> prorate_relay(const std::vector<relay_activity>& log, const period& p,
                                        const plan_catalog& plans);

struct invoice_draft {
  std::vector<relay_item> items;  // only relays that cost something, by relay id
  int64_t total_sats = 0;         // 0: no invoice
};

/// The bill of one tenant for period `p`: one item per relay whose amount is > 0.
/// `logs` maps relay id → its rows (as for prorate_relay).
invoice_draft bill_period(const std::map<std::string, std::vector<relay_activity>>& logs, const period& p,
                          const plan_catalog& plans);

/// ceil(a / b) for a >= 0, b > 0.
inline int64_t ceil_div(__int128 a, int64_t b) {
  return static_cast<int64_t>((a + b - 1) / b);
}

} // namespace relayhost::billing
