// Pagination parameters and opaque cursors.
#define CAF_SUITE domain_page
#include <caf/test/unit_test.hpp>

#include "domain/page.hpp"

using namespace relayhost;

CAF_TEST(cursors_round_trip) {
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{35}, int64_t{36}, int64_t{123456789}, int64_t{1} << 50}) {
    auto c = encode_cursor(v);
    auto back = decode_cursor(c);
    CAF_REQUIRE(back.has_value());
    CAF_CHECK_EQUAL(*back, v);
  }
}

CAF_TEST(malformed_cursors_are_refused) {
  for (auto* c : {"", "c1.", "c2.1", "1", "c1.-1", "c1.A", "c1.01", "c1.zzzzzzzzzzzzz", "c1.1 ", "c1.%"})
    CAF_CHECK(!decode_cursor(c));
}

CAF_TEST(limits) {
  auto p = parse_page(std::nullopt, std::nullopt);
  CAF_REQUIRE(std::holds_alternative<page_request>(p));
  auto def = std::get<page_request>(p);
  CAF_CHECK_EQUAL(def.limit, 50);
  // Locals: CAF_CHECK_EQUAL binds by reference, and a temporary's innards would dangle.
  auto one = std::get<page_request>(parse_page(std::string("1"), std::nullopt));
  CAF_CHECK_EQUAL(one.limit, 1);
  auto most = std::get<page_request>(parse_page(std::string("500"), std::nullopt));
  CAF_CHECK_EQUAL(most.limit, 500);
  for (auto* bad : {"0", "501", "-1", "1.5", "abc", "", " 5", "99999999999999999999"}) {
    auto r = parse_page(std::string(bad), std::nullopt);
    CAF_REQUIRE(std::holds_alternative<api_error>(r));
    auto e = std::get<api_error>(r);
    CAF_CHECK_EQUAL(e.field, "limit");
  }
  auto r = parse_page(std::nullopt, std::string("nope"));
  auto field = std::get<api_error>(r).field;
  CAF_CHECK_EQUAL(field, "cursor");
  auto ok = std::get<page_request>(parse_page(std::nullopt, encode_cursor(77)));
  CAF_CHECK_EQUAL(*ok.after, 77);
}
