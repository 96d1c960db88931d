// Billing periods: calendar months from the anchor in UTC, the 29th-31st clamped to
// short months and coming back afterwards, leap years; checked against dates
// computed elsewhere (Python's datetime) and, for every anchor day of 2027-2029,
// against glibc's timegm.
#undef CAF_SUITE
#define CAF_SUITE billing_period
#include <caf/test/unit_test.hpp>

#include <algorithm>
#include <ctime>
#include <stdexcept>

#include "billing/period.hpp"

using namespace relayhost::billing;

namespace {

// Reference: the k-th start via timegm, a different implementation of the calendar.
int64_t reference_start(int64_t anchor, int64_t k) {
  time_t t = static_cast<time_t>(anchor);
  std::tm a{};
  gmtime_r(&t, &a);
  int64_t m = a.tm_mon + k;
  std::tm s{};
  s.tm_year = static_cast<int>(a.tm_year + m / 12);
  s.tm_mon = static_cast<int>(m % 12);
  static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int y = s.tm_year + 1900;
  int days = dim[s.tm_mon] + (s.tm_mon == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 1 : 0);
  s.tm_mday = std::min(a.tm_mday, days);
  s.tm_hour = a.tm_hour;
  s.tm_min = a.tm_min;
  s.tm_sec = a.tm_sec;
  return static_cast<int64_t>(timegm(&s));
}

// The index of the period holding t, -1 when none (by value: CAF_CHECK_EQUAL binds a reference).
int64_t index_at(int64_t anchor, int64_t t) {
  auto p = period_containing(anchor, t);
  return p ? p->index : -1;
}

} // namespace

CAF_TEST(the civil calendar agrees with known dates) {
  CAF_CHECK_EQUAL(days_from_civil({1970, 1, 1}), 0);
  CAF_CHECK_EQUAL(days_from_civil({2000, 3, 1}) * 86400, 951868800);
  auto d = civil_from_days(951868800 / 86400);
  CAF_CHECK_EQUAL(d.year, 2000);
  CAF_CHECK_EQUAL(d.month, 3u);
  CAF_CHECK_EQUAL(d.day, 1u);
  CAF_CHECK_EQUAL(days_in_month(2028, 2), 29u);
  CAF_CHECK_EQUAL(days_in_month(2027, 2), 28u);
  CAF_CHECK_EQUAL(days_in_month(2100, 2), 28u);
  CAF_CHECK_EQUAL(days_in_month(2000, 2), 29u);
  CAF_CHECK_EQUAL(iso_date(1801389600), "2027-01-31");
}

CAF_TEST(an anchor on the 31st falls to the last day of short months and returns to the 31st) {
  const int64_t anchor = 1801389600;  // 2027-01-31T10:00:00Z
  auto p0 = period_at(anchor, 0);
  CAF_CHECK_EQUAL(p0.start, anchor);
  CAF_CHECK_EQUAL(p0.end, 1803808800);  // 2027-02-28T10:00:00Z
  auto p1 = period_at(anchor, 1);
  CAF_CHECK_EQUAL(p1.start, 1803808800);
  CAF_CHECK_EQUAL(p1.end, 1806487200);  // 2027-03-31T10:00:00Z: back on the 31st
  CAF_CHECK_EQUAL(period_at(anchor, 2).end, 1809079200);  // 2027-04-30T10:00:00Z
  CAF_CHECK_EQUAL(period_at(anchor, 12).start, 1832925600);  // 2028-01-31T10:00:00Z
  CAF_CHECK_EQUAL(period_at(anchor, 12).end, 1835431200);    // 2028-02-29T10:00:00Z (leap)
  CAF_CHECK_EQUAL(p0.seconds(), 28 * 86400);
  CAF_CHECK_EQUAL(p1.seconds(), 31 * 86400);
  // The period ends at 10:00 on Feb 28, so the 28th is its last (partial) day.
  CAF_CHECK_EQUAL(period_label(p0), "2027-01-31 to 2027-02-28");
}

CAF_TEST(an anchor on February 29th and one across a year end) {
  const int64_t leap_day = 1835395200;  // 2028-02-29T00:00:00Z
  CAF_CHECK_EQUAL(period_at(leap_day, 1).start, 1837900800);   // 2028-03-29
  CAF_CHECK_EQUAL(period_at(leap_day, 12).start, 1866931200);  // 2029-02-28
  CAF_CHECK_EQUAL(period_at(leap_day, 48).start, 1961625600);  // 2032-02-29
  const int64_t december = 1828915199;  // 2027-12-15T23:59:59Z
  CAF_CHECK_EQUAL(period_at(december, 1).start, 1831593599);   // 2028-01-15T23:59:59Z
}

CAF_TEST(period_containing and last_closed_period at the edges) {
  const int64_t anchor = 1801389600;
  CAF_CHECK(!period_containing(anchor, anchor - 1));
  CAF_CHECK_EQUAL(index_at(anchor, anchor), 0);
  CAF_CHECK_EQUAL(index_at(anchor, 1803808800 - 1), 0);
  CAF_CHECK_EQUAL(index_at(anchor, 1803808800), 1);
  // 2027-03-31T09:59:59Z: the 31st of March, before the anchor's time of day.
  CAF_CHECK_EQUAL(index_at(anchor, 1806487200 - 1), 1);
  CAF_CHECK(!last_closed_period(anchor, anchor));
  CAF_CHECK(!last_closed_period(anchor, 1803808800 - 1));
  auto closed = last_closed_period(anchor, 1803808800);
  CAF_REQUIRE(closed);
  CAF_CHECK(*closed == period_at(anchor, 0));
  CAF_CHECK(*last_closed_period(anchor, 1806487200 + 5) == period_at(anchor, 1));
}

CAF_TEST(every anchor day of 2027-2029 agrees with timegm for five years of periods) {
  size_t mismatches = 0, checked = 0;
  for (int64_t day = days_from_civil({2027, 1, 1}); day < days_from_civil({2030, 1, 1}); ++day) {
    int64_t anchor = day * 86400 + 12345;  // a time of day that is not midnight
    for (int64_t k = 0; k < 60; ++k) {
      auto p = period_at(anchor, k);
      ++checked;
      if (p.start != reference_start(anchor, k) || p.end != reference_start(anchor, k + 1))
        ++mismatches;
      if (p.seconds() < 28 * 86400 || p.seconds() > 31 * 86400)
        ++mismatches;
      // Any instant of the period maps back to it.
      if (!(*period_containing(anchor, p.start) == p) || !(*period_containing(anchor, p.end - 1) == p) ||
          !(*period_containing(anchor, p.start + p.seconds() / 2) == p))
        ++mismatches;
    }
  }
  CAF_CHECK_EQUAL(checked, size_t{1096 * 60});
  CAF_CHECK_EQUAL(mismatches, size_t{0});
}

CAF_TEST(a negative index is refused) {
  bool thrown = false;
  try {
    period_at(0, -1);
  } catch (const std::invalid_argument&) {
    thrown = true;
  }
  CAF_CHECK(thrown);
}
