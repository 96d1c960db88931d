// The pure steps of invoicing: which periods close at a given moment (none before
// the first ends, several when the clock jumped, capped, resuming exactly after
// the last closed one, also from a schedule stored before this code existed),
// the make_invoice request (msats = sats × 1000), what a make_invoice answer must
// hold to be trusted, and the words of the "invoice issued" notice.
#undef CAF_SUITE
#define CAF_SUITE billing_invoicing
#include <caf/test/unit_test.hpp>

#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "billing/invoicing.hpp"

using namespace relayhost::billing;
using json = nlohmann::json;

namespace {

// 2027-01-31T00:00:00Z: an anchor on the 31st.
constexpr int64_t anchor = 1801353600;
constexpr int64_t feb28 = 1803772800, mar31 = 1806451200, apr30 = 1809043200, may31 = 1811721600;
const std::string hash(64, 'a');

std::vector<int64_t> starts(const std::vector<period>& ps) {
  std::vector<int64_t> out;
  for (auto& p : ps)
    out.push_back(p.start);
  return out;
}

std::vector<int64_t> to_close(int64_t next_close, int64_t now, size_t max = 12) {
  return starts(periods_to_close(anchor, next_close, now, max));
}

int64_t lifetime(const json& r) {
  auto m = parse_make_invoice(r.dump(), 1000, 777, nullptr);
  return m ? m->lifetime_seconds : -1;
}

std::string why_refused(const json& result, int64_t msats = 5000000) {
  std::string why;
  auto m = parse_make_invoice(result.dump(), msats, 86400, &why);
  return m ? "accepted" : why;
}

} // namespace

CAF_TEST(nothing closes before the first period ends) {
  auto first = period_at(anchor, 0).end;
  CAF_CHECK_EQUAL(first, feb28);
  CAF_CHECK(to_close(first, feb28 - 1).empty());
  CAF_CHECK(to_close(anchor, anchor).empty());
}

CAF_TEST(a period closes the second it ends) {
  CAF_CHECK_EQUAL(to_close(feb28, feb28), (std::vector<int64_t>{anchor}));
}

CAF_TEST(a clock that jumped closes every period it passed in order and caps them) {
  CAF_CHECK_EQUAL(to_close(feb28, may31 + 5), (std::vector<int64_t>{anchor, feb28, mar31, apr30}));
  CAF_CHECK_EQUAL(to_close(feb28, may31 + 5, 2), (std::vector<int64_t>{anchor, feb28}));
}

CAF_TEST(the schedule resumes after the last closed period) {
  auto closed = periods_to_close(anchor, feb28, may31, 2);
  auto next = next_close_after(anchor, closed.back());
  CAF_CHECK_EQUAL(next, apr30);  // period 2 (Mar 31 .. Apr 30) is next
  CAF_CHECK_EQUAL(to_close(next, may31), (std::vector<int64_t>{mar31, apr30}));
  CAF_CHECK(to_close(next_close_after(anchor, period_at(anchor, 3)), may31).empty());
}

CAF_TEST(a schedule stored as the anchor itself starts with period zero) {
  // Migration 0007 sets billing_next_close = billing_anchor for tenants anchored before it.
  CAF_CHECK_EQUAL(to_close(anchor, mar31), (std::vector<int64_t>{anchor, feb28}));
  CAF_CHECK_EQUAL(to_close(anchor - 100, feb28), (std::vector<int64_t>{anchor}));
  // Any value inside a period means that period is the next to close.
  CAF_CHECK_EQUAL(to_close(feb28 + 1, apr30), (std::vector<int64_t>{feb28, mar31}));
}

CAF_TEST(make_invoice asks for msats with the expiry and names the platform and period) {
  auto params = json::parse(make_invoice_params("Spaces", 4200, period_at(anchor, 0), 3600));
  CAF_CHECK_EQUAL(params["amount"].get<int64_t>(), 4200000);
  CAF_CHECK_EQUAL(params["expiry"].get<int64_t>(), 3600);
  CAF_CHECK_EQUAL(params["description"].get<std::string>(), "Spaces relay hosting, 2027-01-31 to 2027-02-27");
  auto unnamed = json::parse(make_invoice_params("", 1, period_at(anchor, 1), 60));
  CAF_CHECK_EQUAL(unnamed["description"].get<std::string>(), "relayhost relay hosting, 2027-02-28 to 2027-03-30");
}

CAF_TEST(an amount that is zero negative or too big for msats is refused) {
  for (int64_t bad : {int64_t{0}, int64_t{-1}, std::numeric_limits<int64_t>::max() / 1000 + 1}) {
    bool threw = false;
    try {
      make_invoice_params("x", bad, period_at(anchor, 0), 60);
    } catch (const std::overflow_error&) {
      threw = true;
    }
    CAF_CHECK(threw);
  }
}

CAF_TEST(a make_invoice answer gives the bolt11 the hash and the lifetime) {
  json r{{"type", "incoming"}, {"invoice", "lnbcrt50u1pxyz"}, {"payment_hash", std::string(64, 'A')},
         {"amount", 5000000}, {"created_at", 1000}, {"expires_at", 4600}};
  auto m = parse_make_invoice(r.dump(), 5000000, 86400, nullptr);
  CAF_REQUIRE(m);
  std::string bolt11 = m->bolt11, payment_hash = m->payment_hash;
  int64_t life = m->lifetime_seconds;
  CAF_CHECK_EQUAL(bolt11, "lnbcrt50u1pxyz");
  CAF_CHECK_EQUAL(payment_hash, hash);  // lower-cased
  CAF_CHECK_EQUAL(life, 3600);
}

CAF_TEST(without both times the lifetime is the requested expiry) {
  json r{{"invoice", "lnbc1"}, {"payment_hash", hash}};
  CAF_CHECK_EQUAL(lifetime(r), 777);
  r["expires_at"] = 50;
  CAF_CHECK_EQUAL(lifetime(r), 777);
  r["created_at"] = 50;  // not after created_at
  CAF_CHECK_EQUAL(lifetime(r), 777);
  r["created_at"] = "10";  // not integers
  CAF_CHECK_EQUAL(lifetime(r), 777);
}

CAF_TEST(an answer that is not the invoice asked for is refused with a reason) {
  json good{{"invoice", "lnbc1"}, {"payment_hash", hash}, {"amount", 5000000}};
  CAF_CHECK_EQUAL(why_refused(good), "accepted");
  CAF_CHECK_EQUAL(why_refused(json::array()), "the result is not a JSON object");
  auto without = [&](const char* k) {
    auto j = good;
    j.erase(k);
    return j;
  };
  auto with = [&](const char* k, json v) {
    auto j = good;
    j[k] = std::move(v);
    return j;
  };
  CAF_CHECK_EQUAL(why_refused(without("invoice")), "the result has no invoice");
  CAF_CHECK_EQUAL(why_refused(with("invoice", "")), "the result has no invoice");
  CAF_CHECK_EQUAL(why_refused(with("invoice", 5)), "the result has no invoice");
  CAF_CHECK_EQUAL(why_refused(without("payment_hash")), "the result has no 64-hex payment_hash");
  CAF_CHECK_EQUAL(why_refused(with("payment_hash", std::string(63, 'a'))), "the result has no 64-hex payment_hash");
  CAF_CHECK_EQUAL(why_refused(with("payment_hash", std::string(63, 'a') + "g")),
                  "the result has no 64-hex payment_hash");
  CAF_CHECK_EQUAL(why_refused(with("amount", 4999000)), "the result's amount is not the amount asked for");
  CAF_CHECK_EQUAL(why_refused(with("amount", "5000000")), "the result's amount is not the amount asked for");
  CAF_CHECK_EQUAL(why_refused(without("amount")), "accepted");  // amount is optional
  CAF_CHECK_EQUAL(why_refused(with("amount", nullptr)), "accepted");
  std::string why;
  CAF_CHECK(!parse_make_invoice("not json", 1, 1, &why));
  CAF_CHECK_EQUAL(why, "the result is not a JSON object");
}

CAF_TEST(the issued notice names amount period due date and the bolt11) {
  auto text = invoice_issued_notice("Spaces", 19257, period_at(anchor, 0), feb28 + 7 * 86400, "lnbc192570n1p");
  CAF_CHECK_EQUAL(text.rfind("Spaces: your invoice for relay hosting from 2027-01-31 to 2027-02-27 is 19257 sats, "
                             "due by 2027-03-07.",
                             0),
                  0u);
  CAF_CHECK(text.find("\n\nlnbc192570n1p\n\n") != std::string::npos);
  CAF_CHECK(text.find("PUT /tenant/billing") != std::string::npos);
}
