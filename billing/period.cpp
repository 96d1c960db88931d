#include "billing/period.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace relayhost::billing {

namespace {

constexpr int64_t day_seconds = 86400;

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

bool leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

// Months since year 0 (month 0 = January of year 0).
int64_t month_number(const civil_date& d) {
  return d.year * 12 + static_cast<int64_t>(d.month) - 1;
}

} // namespace

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
int64_t days_from_civil(const civil_date& d) {
  int64_t y = d.year - (d.month <= 2 ? 1 : 0);
  int64_t era = floor_div(y, 400);
  int64_t yoe = y - era * 400;
  int64_t mp = (static_cast<int64_t>(d.month) + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + static_cast<int64_t>(d.day) - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

civil_date civil_from_days(int64_t z) {
  z += 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  civil_date d;
  d.day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  d.month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  d.year = yoe + era * 400 + (d.month <= 2 ? 1 : 0);
  return d;
}

unsigned days_in_month(int64_t year, unsigned month) {
  static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12)
    throw std::invalid_argument("month out of range");
  return month == 2 && leap(year) ? 29 : days[month - 1];
}

period period_at(int64_t anchor, int64_t index) {
  if (index < 0)
    throw std::invalid_argument("a period index is never negative");
  int64_t anchor_day = floor_div(anchor, day_seconds);
  int64_t time_of_day = anchor - anchor_day * day_seconds;
  civil_date a = civil_from_days(anchor_day);
  auto start_of = [&](int64_t k) {
    int64_t m = month_number(a) + k;
    civil_date d;
    d.year = floor_div(m, 12);
    d.month = static_cast<unsigned>(m - d.year * 12 + 1);
    d.day = std::min(a.day, days_in_month(d.year, d.month));
    return days_from_civil(d) * day_seconds + time_of_day;
  };
  return period{index, start_of(index), start_of(index + 1)};
}

std::optional<period> period_containing(int64_t anchor, int64_t t) {
  if (t < anchor)
    return std::nullopt;
  civil_date a = civil_from_days(floor_div(anchor, day_seconds));
  civil_date c = civil_from_days(floor_div(t, day_seconds));
  // The month difference is the index or one more than it (the day or the time of
  // day not reached yet in t's month); step back until the period holds t.
  int64_t k = month_number(c) - month_number(a);
  for (; k >= 0; --k) {
    auto p = period_at(anchor, k);
    if (p.start <= t) {
      if (t < p.end)
        return p;
      return period_at(anchor, k + 1);  // not reached: the estimate is never low by more
    }
  }
  return period_at(anchor, 0);
}

std::optional<period> last_closed_period(int64_t anchor, int64_t now) {
  auto current = period_containing(anchor, now);
  if (!current || current->index == 0)
    return std::nullopt;
  return period_at(anchor, current->index - 1);
}

std::string iso_date(int64_t unix_seconds) {
  auto d = civil_from_days(floor_div(unix_seconds, day_seconds));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(d.year), d.month, d.day);
  return buf;
}

std::string period_label(const period& p) {
  return iso_date(p.start) + " to " + iso_date(p.end - 1);
}

} // namespace relayhost::billing
