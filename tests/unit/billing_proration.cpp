// Proration from the relay activity log: exact integer amounts, rounded up once per
// relay; upgrades, downgrades, deactivation, suspension and delinquency mid-period;
// the state at the period's start from earlier rows; rows after the end ignored;
// free relays and zero-cost periods make no invoice; a plan missing from the
// catalog is an error, never a free relay.
#undef CAF_SUITE
#define CAF_SUITE billing_proration
#include <caf/test/unit_test.hpp>

#include <stdexcept>

#include "billing/proration.hpp"

using namespace relayhost;
using namespace relayhost::billing;

namespace {

const plan_catalog plans{{"free", 0}, {"basic", 5000}, {"growth", 25000}};
// A 30-day period: 2027-06-01T00:00:00Z .. 2027-07-01T00:00:00Z.
const period june{5, 1811808000, 1814400000};  // 30 days
constexpr int64_t day = 86400;

relay_activity row(int64_t at, std::string plan, relay_status status, std::string id = "r1") {
  return {std::move(id), at, std::move(plan), status == relay_status::active, status};
}
relay_activity active(int64_t at, std::string plan = "basic") {
  return row(at, std::move(plan), relay_status::active);
}
relay_activity inactive(int64_t at, std::string plan = "basic") {
  return row(at, std::move(plan), relay_status::inactive);
}

// Item fields by value (CAF_CHECK_EQUAL binds references).
int64_t amount(const std::vector<relay_activity>& log, const period& p = june) {
  auto item = prorate_relay(log, p, plans);
  return item ? item->amount_sats : -1;
}
relay_item item_of(const std::vector<relay_activity>& log, const period& p = june) {
  auto item = prorate_relay(log, p, plans);
  CAF_REQUIRE(item);
  return *item;
}

} // namespace

CAF_TEST(a relay active the whole period on one plan costs the plan price) {
  auto it = item_of({active(june.start - 40 * day)});
  CAF_CHECK_EQUAL(it.amount_sats, 5000);
  CAF_CHECK_EQUAL(it.active_seconds, 30 * day);
  CAF_CHECK_EQUAL(it.active_hours, 720);
  CAF_CHECK_EQUAL(it.plan, "basic");
  CAF_REQUIRE_EQUAL(it.segments.size(), size_t{1});
  CAF_CHECK_EQUAL(it.segments[0].amount_sats, 5000);
}

CAF_TEST(partial activity is prorated by the second and rounded up) {
  CAF_CHECK_EQUAL(amount({active(june.start + 15 * day)}), 2500);  // created half way
  CAF_CHECK_EQUAL(amount({active(june.end - 1)}), 1);              // one second: ceil(5000/2592000)
  CAF_CHECK_EQUAL(amount({active(june.start), inactive(june.start + 1)}), 1);
  // 10 days of 30 on basic: 5000/3 = 1666.67 → 1667
  CAF_CHECK_EQUAL(amount({active(june.start), inactive(june.start + 10 * day)}), 1667);
  auto it = item_of({active(june.start), inactive(june.start + 10 * day)});
  CAF_CHECK_EQUAL(it.active_hours, 240);
  CAF_CHECK_EQUAL(it.plan, "basic");  // the plan at period end, although inactive
  auto odd = item_of({active(june.end - 3601)});
  CAF_CHECK_EQUAL(odd.active_hours, 2);  // 3601 s → ceil to 2 h
}

CAF_TEST(an upgrade mid-period bills each plan for its part and rounds once) {
  auto it = item_of({active(june.start - day), active(june.start + 15 * day, "growth")});
  CAF_CHECK_EQUAL(it.amount_sats, 2500 + 12500);
  CAF_CHECK_EQUAL(it.plan, "growth");
  CAF_REQUIRE_EQUAL(it.segments.size(), size_t{2});
  CAF_CHECK_EQUAL(it.segments[0].plan, "basic");
  CAF_CHECK_EQUAL(it.segments[0].active_seconds, 15 * day);
  CAF_CHECK_EQUAL(it.segments[1].plan, "growth");
  CAF_CHECK_EQUAL(it.segments[1].amount_sats, 12500);
  // One second on each plan: 30000/2592000 of a sat, rounded up once → 1, not 2.
  auto tiny = item_of({active(june.start, "basic"), active(june.start + 1, "growth"), inactive(june.start + 2, "growth")});
  CAF_CHECK_EQUAL(tiny.amount_sats, 1);
  CAF_CHECK_EQUAL(tiny.segments.size(), size_t{2});
  CAF_CHECK_EQUAL(tiny.segments[0].amount_sats + tiny.segments[1].amount_sats, 2);  // the segments' own shares
  // A downgrade to free ends the paid part.
  CAF_CHECK_EQUAL(amount({active(june.start), active(june.start + 6 * day, "free")}), 1000);
}

CAF_TEST(suspended and delinquent time is not active time) {
  std::vector<relay_activity> log{active(june.start - day), row(june.start + 10 * day, "basic", relay_status::suspended),
                                  active(june.start + 20 * day)};
  auto it = item_of(log);
  CAF_CHECK_EQUAL(it.active_seconds, 20 * day);
  CAF_CHECK_EQUAL(it.amount_sats, 3334);  // 20/30 of 5000 = 3333.33 → 3334
  CAF_CHECK_EQUAL(it.segments.size(), size_t{2});  // deactivated then back: two stretches
  CAF_CHECK_EQUAL(amount({row(june.start - day, "growth", relay_status::delinquent)}), 0);
}

CAF_TEST(the state at the start comes from earlier rows and rows after the end do not count) {
  CAF_CHECK_EQUAL(amount({active(june.start - 90 * day), inactive(june.start - 60 * day)}), 0);
  CAF_CHECK_EQUAL(amount({inactive(june.start - 60 * day), active(june.start - 1)}), 5000);
  CAF_CHECK_EQUAL(amount({active(june.start), active(june.end, "growth"), inactive(june.end + day)}), 5000);
  CAF_CHECK_EQUAL(amount({active(june.end)}), -1);  // created at the end: not in this period at all
  CAF_CHECK(!prorate_relay({}, june, plans));
}

CAF_TEST(rows at the same instant: the later one wins) {
  CAF_CHECK_EQUAL(amount({inactive(june.start), active(june.start)}), 5000);
  CAF_CHECK_EQUAL(amount({active(june.start), inactive(june.start)}), 0);
  CAF_CHECK_EQUAL(amount({active(june.start), inactive(june.start + day), active(june.start + day)}), 5000);
  // A row that changes nothing billable keeps one stretch.
  auto it = item_of({active(june.start), active(june.start + day), active(june.start + 2 * day)});
  CAF_CHECK_EQUAL(it.segments.size(), size_t{1});
  CAF_CHECK_EQUAL(it.amount_sats, 5000);
}

CAF_TEST(exact with large prices and short months) {
  plan_catalog big{{"whale", 1000000000000}};  // 10^12 sats a month: no overflow
  period feb{1, 1803808800 - 28 * day, 1803808800};  // 28 days
  auto it = prorate_relay({row(feb.start + 7 * day, "whale", relay_status::active)}, feb, big);
  CAF_REQUIRE(it);
  CAF_CHECK_EQUAL(it->amount_sats, 750000000000);
  auto third = prorate_relay({row(feb.start, "whale", relay_status::active), row(feb.start + 1, "whale", relay_status::inactive)},
                             feb, big);
  CAF_CHECK_EQUAL(third->amount_sats, 413360);  // ceil(10^12 / 2419200) = 413359.79 → 413360
}

CAF_TEST(a plan that is not in the catalog is an error when it was active and harmless when not) {
  bool thrown = false;
  try {
    prorate_relay({active(june.start, "gold")}, june, plans);
  } catch (const std::domain_error& e) {
    thrown = std::string(e.what()).find("'gold'") != std::string::npos;
  }
  CAF_CHECK(thrown);
  CAF_CHECK_EQUAL(amount({inactive(june.start - day, "gold"), active(june.start + 15 * day)}), 2500);
}

CAF_TEST(a tenant bill has one item per relay that cost something and nothing when all is free) {
  std::map<std::string, std::vector<relay_activity>> logs;
  logs["b"] = {row(june.start - day, "growth", relay_status::active, "b")};
  logs["a"] = {row(june.start + 15 * day, "basic", relay_status::active, "a")};
  logs["free"] = {row(june.start - day, "free", relay_status::active, "free")};
  logs["off"] = {row(june.start - day, "basic", relay_status::inactive, "off")};
  logs["later"] = {row(june.end + 1, "basic", relay_status::active, "later")};
  auto bill = bill_period(logs, june, plans);
  CAF_REQUIRE_EQUAL(bill.items.size(), size_t{2});
  CAF_CHECK_EQUAL(bill.items[0].relay_id, "a");
  CAF_CHECK_EQUAL(bill.items[0].amount_sats, 2500);
  CAF_CHECK_EQUAL(bill.items[1].relay_id, "b");
  CAF_CHECK_EQUAL(bill.items[1].amount_sats, 25000);
  CAF_CHECK_EQUAL(bill.total_sats, 27500);

  std::map<std::string, std::vector<relay_activity>> free_only;
  free_only["free"] = logs["free"];
  free_only["off"] = logs["off"];
  auto none = bill_period(free_only, june, plans);
  CAF_CHECK_EQUAL(none.total_sats, 0);
  CAF_CHECK(none.items.empty());
}

CAF_TEST(ten days of basic and one hour of basic in months of 28 29 30 and 31 days) {
  // Anchors on the 31st: 2027-01-31 (Feb has 28 days), 2028-01-31 (leap: 29), and the
  // months after them (31 and 30 days). By hand: 5000 × 864000 / period seconds.
  const int64_t a2027 = 1801353600, a2028 = 1832889600;
  struct row_t {
    period p;
    int64_t days, ten_days, one_hour, all_but_ten_days;
  };
  for (auto& [p, days, ten_days, one_hour, all_but_ten_days] : {
         row_t{period_at(a2027, 0), 28, 1786, 8, 3215},  // 1785.71, 7.44, 18/28: 3214.29
         row_t{period_at(a2028, 0), 29, 1725, 8, 3276},  // 1724.14, 7.18, 19/29: 3275.86
         row_t{period_at(a2027, 2), 30, 1667, 7, 3334},  // 1666.67, 6.94, 20/30: 3333.33
         row_t{period_at(a2027, 1), 31, 1613, 7, 3388},  // 1612.90, 6.72, 21/31: 3387.10
       }) {
    CAF_CHECK_EQUAL(p.seconds(), days * day);
    CAF_CHECK_EQUAL(amount({active(p.start + 3 * day), inactive(p.start + 13 * day)}, p), ten_days);
    // Created and deleted within one hour.
    auto hour = item_of({active(p.start + 5 * day), inactive(p.start + 5 * day + 3600)}, p);
    CAF_CHECK_EQUAL(hour.amount_sats, one_hour);
    CAF_CHECK_EQUAL(hour.active_hours, 1);
    // Deactivated for the middle ten days and reactivated: the rest of the month.
    auto gap = item_of({active(p.start - day), inactive(p.start + 10 * day), active(p.start + 20 * day)}, p);
    CAF_CHECK_EQUAL(gap.active_seconds, (days - 10) * day);
    CAF_CHECK_EQUAL(gap.amount_sats, all_but_ten_days);
  }
  CAF_CHECK_EQUAL(period_at(a2028, 0).end, 1835395200);  // 2028-02-29
}
