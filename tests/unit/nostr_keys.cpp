// Secret keys, public key parsing (hex and npub) and the NIP-19 spellings.
#define CAF_SUITE nostr_keys
#include <caf/test/unit_test.hpp>

#include "nostr/keys.hpp"
#include "nostr/secp.hpp"

#include <set>
#include <string>

using namespace relayhost::nostr;

namespace {

// BIP-340 vector 1: secret key and its x-only public key.
constexpr const char* vec1_sk = "b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef";
constexpr const char* vec1_pk = "dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659";

// NIP-19's examples (unrelated keys).
constexpr const char* nip19_npub = "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg";
constexpr const char* nip19_pk = "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e";
constexpr const char* nip19_nsec = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5";
constexpr const char* nip19_sk = "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa";

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

CAF_TEST(secret key from hex and its public key) {
  auto sk = secret_key::from_hex(vec1_sk);
  CAF_REQUIRE(sk.has_value());
  CAF_CHECK_EQUAL(sk->pubkey_hex(), vec1_pk);
  CAF_CHECK_EQUAL(sk->hex(), vec1_sk);
  // Copies are independent and equal.
  secret_key copy = *sk;
  CAF_CHECK(copy.bytes() == sk->bytes());
}

CAF_TEST(secret key range) {
  const std::string zero(64, '0');
  CAF_CHECK(!secret_key::from_hex(zero).has_value());
  // n, the group order, is out of range; n - 1 is the largest valid key.
  CAF_CHECK(!secret_key::from_hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"));
  CAF_CHECK(secret_key::from_hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140"));
  CAF_CHECK(!secret_key::from_hex(std::string(64, 'f')));
  // Spelling: lowercase 64 hex only.
  CAF_CHECK(!secret_key::from_hex("B7E151628AED2A6ABF7158809CF4F3C762E7160F38B4DA56A784D9045190CFEF"));
  CAF_CHECK(!secret_key::from_hex(std::string(vec1_sk).substr(0, 62)));
}

CAF_TEST(generated keys are valid and distinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 32; ++i) {
    secret_key k = secret_key::generate();
    CAF_CHECK(seckey_valid(k.bytes().data()));
    seen.insert(k.hex());
    CAF_CHECK_EQUAL(k.pubkey_hex().size(), 64u);
  }
  CAF_CHECK_EQUAL(seen.size(), 32u);
}

CAF_TEST(parse pubkey from hex or npub) {
  CAF_CHECK_EQUAL(parse_pubkey(vec1_pk).value_or(""), vec1_pk);
  CAF_CHECK_EQUAL(parse_pubkey(nip19_npub).value_or(""), nip19_pk);
  CAF_CHECK_EQUAL(parse_pubkey("NPUB10ELFCS4FR0L0R8AF98JLMGDH9C8TCXJVZ9QKW038JS35MP4DMA8QZVJPTG").value_or(""),
                  nip19_pk);
  CAF_CHECK_EQUAL(to_npub(nip19_pk), nip19_npub);
  CAF_CHECK_EQUAL(to_npub("not hex"), "");
  CAF_CHECK_EQUAL(parse_pubkey_error(nip19_npub), "");
}

CAF_TEST(parse pubkey rejections name the reason) {
  std::string error;
  // Uppercase hex.
  CAF_CHECK(!parse_pubkey("DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659", &error));
  CAF_CHECK(contains(error, "lowercase hex"));
  // Wrong length.
  CAF_CHECK(!parse_pubkey(std::string(vec1_pk).substr(2), &error));
  CAF_CHECK(contains(error, "64 lowercase hex"));
  // BIP-340 vector 5: not the x coordinate of a curve point.
  CAF_CHECK(!parse_pubkey("eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34", &error));
  CAF_CHECK(contains(error, "not a valid secp256k1"));
  // BIP-340 vector 14: x >= field size.
  CAF_CHECK(!parse_pubkey("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc30", &error));
  CAF_CHECK(contains(error, "not a valid secp256k1"));
  // Bad checksum.
  CAF_CHECK(!parse_pubkey("npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjpth", &error));
  CAF_CHECK(contains(error, "checksum"));
  // Mixed case.
  CAF_CHECK(!parse_pubkey("npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjpTG", &error));
  CAF_CHECK(contains(error, "mixes upper and lower case"));
  // An nsec where a pubkey belongs: wrong HRP, and the message must not echo it.
  CAF_CHECK(!parse_pubkey(nip19_nsec, &error));
  CAF_CHECK(contains(error, "expected an npub"));
  CAF_CHECK(!contains(error, nip19_nsec));
  // 33 bytes under npub.
  CAF_CHECK(!parse_pubkey("npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qqlhqg6v", &error));
  CAF_CHECK(contains(error, "33 bytes"));
  CAF_CHECK(!parse_pubkey("", &error));
  CAF_CHECK_NOT_EQUAL(parse_pubkey_error("npub1"), "");
}

CAF_TEST(parse secret key from hex or nsec) {
  auto a = parse_secret_key(nip19_nsec);
  CAF_REQUIRE(a.has_value());
  CAF_CHECK_EQUAL(a->hex(), nip19_sk);
  CAF_CHECK_EQUAL(to_nsec(*a), nip19_nsec);
  auto b = parse_secret_key(nip19_sk);
  CAF_REQUIRE(b.has_value());
  CAF_CHECK(a->bytes() == b->bytes());
  // Round trip of a fresh key.
  secret_key k = secret_key::generate();
  auto back = parse_secret_key(to_nsec(k));
  CAF_REQUIRE(back.has_value());
  CAF_CHECK(back->bytes() == k.bytes());
}

CAF_TEST(parse secret key rejections never echo the key) {
  const std::string upper = "67DEA2ED018072D675F5415ECFAED7D2597555E202D85B3D65EA4E58D2D92FFA";
  const std::string cases[] = {
    upper,
    std::string(nip19_sk).substr(1),
    std::string(64, '0'),
    "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe6", // bad checksum
    "npub1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqu95glp", // same bytes as npub
    "nsec1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqwkhnav", // zero key
  };
  for (const auto& c : cases) {
    std::string error;
    CAF_CHECK(!parse_secret_key(c, &error).has_value());
    CAF_MESSAGE("reason: " << error);
    CAF_CHECK(!error.empty());
    CAF_CHECK(!contains(error, c));
    CAF_CHECK(!contains(error, nip19_sk));
    CAF_CHECK(!contains(error, "67dea2ed"));
    CAF_CHECK_EQUAL(parse_secret_key_error(c), error);
  }
  std::string error;
  parse_secret_key("npub1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqu95glp", &error);
  CAF_CHECK(contains(error, "expected an nsec"));
  parse_secret_key(std::string(64, '0'), &error);
  CAF_CHECK(contains(error, "out of range"));
}
