// Billing periods: calendar months from the tenant's anchor, in UTC (billing.md
// "Periods and the amount due"). Period k starts on the anchor's day of month, k
// months on, at the anchor's time of day; a day the month does not have becomes
// that month's last day (anchor on the 31st: Feb 28/29, Apr 30, …). Each start is
// computed from the anchor itself, never from the previous start, so a 31st anchor
// comes back to the 31st after February. Pure integer arithmetic, no time zone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace relayhost::billing {

struct period {
  int64_t index = 0;  // 0: the period that begins at the anchor
  int64_t start = 0;  // unix seconds, inclusive
  int64_t end = 0;    // unix seconds, exclusive (the next period's start)
  int64_t seconds() const { return end - start; }
  bool operator==(const period& o) const { return index == o.index && start == o.start && end == o.end; }
};

/// The `index`-th period from `anchor` (index >= 0).
period period_at(int64_t anchor, int64_t index);

/// The period that contains `t`; nullopt when `t` is before the anchor.
std::optional<period> period_containing(int64_t anchor, int64_t t);

/// The newest period that has ended by `now` (end <= now); nullopt when none has.
std::optional<period> last_closed_period(int64_t anchor, int64_t now);

/// "2027-01-31 to 2027-02-28": the days of its first and last second, UTC.
std::string period_label(const period& p);

/// Calendar helpers (proleptic Gregorian, UTC), exposed for tests and labels.
struct civil_date {
  int64_t year = 1970;
  unsigned month = 1;  // 1..12
  unsigned day = 1;    // 1..31
};
int64_t days_from_civil(const civil_date& d);
civil_date civil_from_days(int64_t days);
unsigned days_in_month(int64_t year, unsigned month);
std::string iso_date(int64_t unix_seconds);  // "2027-02-28"

} // namespace relayhost::billing
