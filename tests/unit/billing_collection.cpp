// Collection as pure rules: the out-of-band check spacing (PAYMENT_CHECK_SECONDS,
// doubling to an hour), when autopay may send (never with an attempt in flight,
// at most one per NWC_PAY_RETRY_HOURS), the 48-hour warning window, when an invoice
// next needs its tenant, and the notices' words.
#undef CAF_SUITE
#define CAF_SUITE billing_collection
#include <caf/test/unit_test.hpp>

#include "billing/collection.hpp"

using namespace relayhost::billing;

namespace {

constexpr int64_t hour = 3600, day = 86400;
const collection_policy policy{60, 3600, 24 * hour, 48 * hour};

collect_state open_invoice(int64_t due_at) {
  collect_state s;
  s.due_at = due_at;
  return s;
}

} // namespace

CAF_TEST(checks start at the base and double up to an hour) {
  CAF_CHECK_EQUAL(check_wait(policy, 0), 60);
  CAF_CHECK_EQUAL(check_wait(policy, 1), 120);
  CAF_CHECK_EQUAL(check_wait(policy, 5), 1920);
  CAF_CHECK_EQUAL(check_wait(policy, 6), 3600);
  CAF_CHECK_EQUAL(check_wait(policy, 60), 3600);
  collection_policy slow{7200, 3600, day, 48 * hour};  // a base above the cap is kept
  CAF_CHECK_EQUAL(check_wait(slow, 3), 7200);
}

CAF_TEST(autopay needs a wallet no attempt in flight and the spacing) {
  auto s = open_invoice(1000 * day);
  CAF_CHECK(!may_autopay(policy, s, 0));
  s.autopay = true;
  CAF_CHECK(may_autopay(policy, s, 0));  // never attempted
  s.last_attempt_at = 10 * day;
  CAF_CHECK(!may_autopay(policy, s, 10 * day + 24 * hour - 1));
  CAF_CHECK(may_autopay(policy, s, 10 * day + 24 * hour));
  s.attempt_in_flight = true;  // unknown outcome: lookup_invoice decides first
  CAF_CHECK(!may_autopay(policy, s, 100 * day));
}

CAF_TEST(the grace warning is due in the last 48 hours only) {
  auto s = open_invoice(10 * day);
  CAF_CHECK(!grace_warning_due(policy, s, 8 * day - 1));
  CAF_CHECK(grace_warning_due(policy, s, 8 * day));
  CAF_CHECK(grace_warning_due(policy, s, 10 * day - 1));
  CAF_CHECK(!grace_warning_due(policy, s, 10 * day));  // grace is over: delinquency instead
  s.delinquent = true;
  CAF_CHECK(!grace_warning_due(policy, s, 9 * day));
}

CAF_TEST(the next action is the earliest of check warning end of grace and next attempt) {
  auto s = open_invoice(10 * day);
  CAF_CHECK_EQUAL(next_action(policy, s, 0), 60);  // the first check
  s.checks = 20;
  CAF_CHECK_EQUAL(next_action(policy, s, 0), 3600);
  CAF_CHECK_EQUAL(next_action(policy, s, 8 * day - 100), 8 * day);  // the warning window opens
  CAF_CHECK_EQUAL(next_action(policy, s, 10 * day - 100), 10 * day);  // grace ends
  s.delinquent = true;
  CAF_CHECK_EQUAL(next_action(policy, s, 10 * day - 100), 10 * day - 100 + 3600);  // only checks now
  s.autopay = true;
  CAF_CHECK_EQUAL(next_action(policy, s, 0), 1);  // never attempted: at once
  s.last_attempt_at = 0;
  s.checks = 0;
  CAF_CHECK_EQUAL(next_action(policy, s, 30 * hour), 30 * hour + 60);
  s.checks = 20;
  CAF_CHECK_EQUAL(next_action(policy, s, 23 * hour + 1800), 24 * hour);  // the retry comes first
  s.attempt_in_flight = true;
  CAF_CHECK_EQUAL(next_action(policy, s, 23 * hour + 1800), 23 * hour + 1800 + 3600);
}

CAF_TEST(the notices name what happened and what to do) {
  period p{0, 1801353600, 1803772800};
  CAF_CHECK_EQUAL(payment_received_notice("Spaces", 5000, p),
                  "Spaces: payment received, thank you. 5000 sats for relay hosting from 2027-01-31 to 2027-02-27.");
  auto failed = autopay_failed_notice("Spaces", 5000, p, "INSUFFICIENT_BALANCE (not enough sats)", "lnbc1", 24);
  CAF_CHECK(failed.find("Your wallet said: INSUFFICIENT_BALANCE (not enough sats).") != std::string::npos);
  CAF_CHECK(failed.find("\n\nlnbc1\n\n") != std::string::npos);
  CAF_CHECK(failed.find("next automatic attempt is in 24 h") != std::string::npos);
  auto grace = grace_ending_notice("", 7, p, 1804377600, "lnbc2");
  CAF_CHECK(grace.rfind("relayhost: your invoice of 7 sats", 0) == 0);
  CAF_CHECK(grace.find("ends on 2027-03-07 (in 48 hours)") != std::string::npos);
  CAF_CHECK_EQUAL(relays_reactivated_notice("S", {"one", "two"}), "S: thank you, your relays are running again: one, two.");
  CAF_CHECK(relays_delinquent_notice("S", {"paid"}, 5, "lnbc3").find("switched off until it is paid: paid.") !=
            std::string::npos);
}
