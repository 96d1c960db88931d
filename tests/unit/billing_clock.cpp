// The billing test clock: the offset only grows, from any thread; POST /admin/clock
// bodies parsed strictly, a move back refused with the field it names.
#undef CAF_SUITE
#define CAF_SUITE billing_clock
#include <caf/test/unit_test.hpp>

#include <thread>
#include <vector>

#include "billing/clock.hpp"

using namespace relayhost;
using namespace relayhost::billing;

namespace {

constexpr int64_t real = 1800000000;

// The new offset, or the error's "code:field" (by value for CAF_CHECK_EQUAL).
std::string move(const std::string& body, int64_t offset = 0) {
  auto r = parse_clock_move(body, real + offset, real);
  if (auto* e = std::get_if<api_error>(&r))
    return std::string(api_code(e->code)) + ":" + e->field;
  return std::to_string(std::get<int64_t>(r));
}

} // namespace

CAF_TEST(the system clock has no offset and a test clock starts where it was stored) {
  billing_clock system{false, 500};
  CAF_CHECK_EQUAL(system.offset(), 0);
  billing_clock test{true, 500};
  CAF_CHECK_EQUAL(test.offset(), 500);
  auto real = billing_clock::real_now();  // read first: now() reads it again, later
  auto ahead = test.now() - real;
  CAF_CHECK(ahead >= 500 && ahead <= 501);
}

CAF_TEST(raise_offset never lowers it even when raced) {
  billing_clock c{true, 0};
  CAF_CHECK_EQUAL(c.raise_offset(100), 100);
  CAF_CHECK_EQUAL(c.raise_offset(50), 100);
  CAF_CHECK_EQUAL(c.offset(), 100);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&c, t] {
      for (int64_t i = 0; i < 10000; ++i)
        c.raise_offset(i * 4 + t);
    });
  for (auto& th : threads)
    th.join();
  CAF_CHECK_EQUAL(c.offset(), 39999);
}

CAF_TEST(moves forward by seconds or to a time) {
  CAF_CHECK_EQUAL(move(R"({"advance_seconds": 86400})"), "86400");
  CAF_CHECK_EQUAL(move(R"({"advance_seconds": 60})", 1000), "1060");
  CAF_CHECK_EQUAL(move(R"({"advance_seconds": 0})", 7), "7");
  CAF_CHECK_EQUAL(move(R"({"now": 1800003600})"), "3600");
  CAF_CHECK_EQUAL(move(R"({"now": 1800001000})", 1000), "1000");  // exactly now: allowed
}

CAF_TEST(a move back and malformed bodies name their field) {
  CAF_CHECK_EQUAL(move(R"({"now": 1800000999})", 1000), "invalid-field:now");
  CAF_CHECK_EQUAL(move(R"({"advance_seconds": -1})"), "invalid-field:advance_seconds");
  CAF_CHECK_EQUAL(move(R"({"advance_seconds": 1.5})"), "invalid-field:advance_seconds");
  CAF_CHECK_EQUAL(move(R"({"advance_seconds": "1"})"), "invalid-field:advance_seconds");
  CAF_CHECK_EQUAL(move(R"({"advance_seconds": null})"), "invalid-field:advance_seconds");
  CAF_CHECK_EQUAL(move(R"({"advance_seconds": 18446744073709551615})"), "invalid-field:advance_seconds");
  CAF_CHECK_EQUAL(move(R"({"advance_seconds": 3162240001})"), "invalid-field:advance_seconds");
  CAF_CHECK_EQUAL(move(R"({"now": 99999999999999})"), "invalid-field:now");
  CAF_CHECK_EQUAL(move(R"({"now": true})"), "invalid-field:now");
  CAF_CHECK_EQUAL(move(R"({})"), "invalid-field:advance_seconds");
  CAF_CHECK_EQUAL(move(R"({"advance_seconds": 1, "now": 1800000001})"), "invalid-field:now");
  CAF_CHECK_EQUAL(move(R"({"advance_seconds": 1, "rate": 2})"), "invalid-field:rate");
  CAF_CHECK_EQUAL(move(R"([1])"), "invalid-json:");
  CAF_CHECK_EQUAL(move("{"), "invalid-json:");
  CAF_CHECK_EQUAL(move(""), "invalid-json:");
}
