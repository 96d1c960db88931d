// Secrets at rest: AES-256-GCM under an HKDF-derived key, bound to their owner.
#define CAF_SUITE domain_sealed_box
#include <caf/test/unit_test.hpp>

#include "domain/sealed_box.hpp"

using namespace relayhost;

namespace {
std::array<uint8_t, 32> key(uint8_t fill) {
  std::array<uint8_t, 32> k{};
  k.fill(fill);
  return k;
}
} // namespace

CAF_TEST(round_trip_and_fresh_nonces) {
  sealed_box box{key(1)};
  auto a = box.seal("nostr+walletconnect://secret", "nwc:alice");
  auto b = box.seal("nostr+walletconnect://secret", "nwc:alice");
  CAF_CHECK(a != b);
  auto opened_a = box.open(a, "nwc:alice");
  auto opened_b = box.open(b, "nwc:alice");
  CAF_REQUIRE(opened_a && opened_b);
  CAF_CHECK_EQUAL(*opened_a, "nostr+walletconnect://secret");
  CAF_CHECK_EQUAL(*opened_b, "nostr+walletconnect://secret");
  std::string as_text(a.begin(), a.end());
  CAF_CHECK(as_text.find("secret") == std::string::npos);
  auto empty = box.open(box.seal("", "x"), "x");
  CAF_REQUIRE(empty);
  CAF_CHECK_EQUAL(*empty, "");
}

CAF_TEST(wrong_owner_key_or_damage_does_not_open) {
  sealed_box box{key(1)};
  auto blob = box.seal("top secret", "relay-secret:r1");
  CAF_CHECK(!box.open(blob, "relay-secret:r2"));
  CAF_CHECK(!sealed_box{key(2)}.open(blob, "relay-secret:r1"));
  for (size_t i = 0; i < blob.size(); ++i) {
    auto bad = blob;
    bad[i] ^= 0x01;
    CAF_CHECK(!box.open(bad, "relay-secret:r1"));
  }
  CAF_CHECK(!box.open({}, "relay-secret:r1"));
  CAF_CHECK(!box.open(std::vector<uint8_t>(blob.begin(), blob.begin() + 20), "relay-secret:r1"));
}
