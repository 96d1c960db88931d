// Hex, SHA-256, base64 and bech32 against published vectors and their edge cases.
#define CAF_SUITE nostr_codec
#include <caf/test/unit_test.hpp>

#include "nostr/base64.hpp"
#include "nostr/bech32.hpp"
#include "nostr/hex.hpp"
#include "nostr/sha256.hpp"

#include <algorithm>
#include <cctype>
#include <random>
#include <string>
#include <vector>

using namespace relayhost::nostr;

CAF_TEST(hex round trip and strictness) {
  const uint8_t raw[] = {0x00, 0x01, 0xab, 0xff, 0x7f};
  CAF_CHECK_EQUAL(to_hex(raw, sizeof raw), "0001abff7f");
  uint8_t out[5] = {};
  CAF_REQUIRE(from_hex("0001abff7f", out, sizeof out));
  CAF_CHECK(std::equal(out, out + 5, raw));
  CAF_CHECK(!from_hex("0001ABFF7F", out, sizeof out)); // uppercase is not Nostr hex
  CAF_CHECK(!from_hex("0001abff7", out, sizeof out));  // odd length
  CAF_CHECK(!from_hex("0001abff7f00", out, sizeof out)); // too long
  CAF_CHECK(!from_hex("0001abff7g", out, sizeof out));
  CAF_CHECK(!from_hex(std::string_view("0001ab\0f7f", 10), out, sizeof out));
  CAF_CHECK(from_hex("", out, 0));
  CAF_CHECK(is_lower_hex("deadbeef", 8));
  CAF_CHECK(!is_lower_hex("deadbeef", 7));
  CAF_CHECK(!is_lower_hex("deadBeef", 8));
  CAF_CHECK(!is_lower_hex("dead beef", 9));
}

CAF_TEST(sha256 vectors) {
  CAF_CHECK_EQUAL(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CAF_CHECK_EQUAL(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CAF_CHECK_EQUAL(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CAF_CHECK_EQUAL(sha256_hex(std::string(1000000, 'a')),
                  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

CAF_TEST(base64 rfc4648 vectors) {
  const std::pair<const char*, const char*> vectors[] = {
    {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (auto [plain, encoded] : vectors) {
    CAF_CHECK_EQUAL(base64_encode(std::string_view(plain)), encoded);
    auto padded = base64_decode(encoded);
    CAF_REQUIRE(padded.has_value());
    CAF_CHECK_EQUAL(*padded, plain);
    std::string unpadded(encoded);
    while (!unpadded.empty() && unpadded.back() == '=')
      unpadded.pop_back();
    auto decoded = base64_decode(unpadded);
    CAF_REQUIRE(decoded.has_value());
    CAF_CHECK_EQUAL(*decoded, plain);
  }
}

CAF_TEST(base64 rejects what no encoder produces) {
  const char* bad[] = {
    "Zg=",      // padding that does not complete the quantum
    "Zg===",    // too much padding
    "Z",        // 1 char left over
    "Zm9vY",    // 5 chars: 1 left over
    "Zh==",     // non-zero trailing bits (h = 33, low 4 bits set)
    "Zm9=",     // non-zero trailing bits (9 = 61, low 2 bits set)
    "Zm9v\n",   // whitespace
    " Zm9v",
    "Zm 9v",
    "Zm9v_-==", // URL-safe alphabet
    "Zm=v",     // padding in the middle
    "=Zm9",
    "====",
    "Zm9v====",
    "Zm9\xc3\xa9",
  };
  for (const char* b : bad) {
    CAF_MESSAGE("input: " << b);
    CAF_CHECK(!base64_decode(b).has_value());
  }
}

CAF_TEST(base64 round trips random bytes) {
  std::mt19937 rng(42);
  for (int n = 0; n < 300; ++n) {
    std::string bytes(n, '\0');
    for (auto& c : bytes)
      c = static_cast<char>(rng());
    const std::string enc = base64_encode(bytes);
    CAF_CHECK_EQUAL(enc.size(), base64_encoded_size(bytes.size()));
    auto dec = base64_decode(enc);
    CAF_REQUIRE(dec.has_value());
    CAF_CHECK(*dec == bytes);
    CAF_CHECK_LESS_OR_EQUAL(bytes.size(), base64_max_decoded_size(enc.size()));
  }
}

CAF_TEST(bech32 bip173 valid strings) {
  const char* valid[] = {
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
  };
  for (const char* v : valid) {
    CAF_MESSAGE("input: " << v);
    std::string error;
    auto d = bech32_decode(v, &error);
    CAF_REQUIRE(d.has_value());
    // Re-encoding gives back the lowercase spelling.
    std::string lower(v);
    for (auto& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    CAF_CHECK_EQUAL(bech32_encode(d->hrp, d->bytes.data(), d->bytes.size()), lower);
  }
}

CAF_TEST(bech32 bip173 invalid strings) {
  const std::pair<std::string, const char*> invalid[] = {
    {std::string("\x20") + "1nwldj5", "outside printable ASCII"},
    {std::string("\x7f") + "1axkwrx", "outside printable ASCII"},
    {"pzry9x8gf2tvdw0s3jn54khce6mua7l", "no human-readable prefix"},
    {"1pzry9x8gf2tvdw0s3jn54khce6mua7l", "no human-readable prefix"},
    {"x1b4n0q5v", "outside the bech32 alphabet"},
    {"li1dgmt3", "too short"},
    {"de1lg7wt\xff", "outside printable ASCII"},
    {"A1G7SGD8", "checksum"}, // checksum computed with an uppercase HRP
    {"10a06t8", "no human-readable prefix"},
    {"1qzzfhee", "no human-readable prefix"},
    {"a12UEL5L", "mixes upper and lower case"},
  };
  for (const auto& [text, reason] : invalid) {
    std::string error;
    CAF_CHECK(!bech32_decode(text, &error).has_value());
    CAF_MESSAGE("reason: " << error);
    CAF_CHECK(error.find(reason) != std::string::npos);
  }
}

CAF_TEST(bech32 nip19 keys) {
  // NIP-19's own examples.
  auto npub = bech32_decode("npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg");
  CAF_REQUIRE(npub.has_value());
  CAF_CHECK_EQUAL(npub->hrp, "npub");
  CAF_CHECK_EQUAL(to_hex(npub->bytes.data(), npub->bytes.size()),
                  "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e");
  auto nsec = bech32_decode("nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5");
  CAF_REQUIRE(nsec.has_value());
  CAF_CHECK_EQUAL(nsec->hrp, "nsec");
  CAF_CHECK_EQUAL(to_hex(nsec->bytes.data(), nsec->bytes.size()),
                  "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa");
  // Bad checksum: last character changed.
  std::string error;
  CAF_CHECK(!bech32_decode("npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjpth", &error));
  CAF_CHECK(error.find("checksum") != std::string::npos);
  // A single substituted data character.
  CAF_CHECK(!bech32_decode("npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjqtg"));
  // The bech32m checksum of the same data is not a bech32 checksum.
  CAF_CHECK(!bech32_decode("npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qhszdw2"));
  // All uppercase is the same string; mixed case is not.
  CAF_CHECK(bech32_decode("NPUB10ELFCS4FR0L0R8AF98JLMGDH9C8TCXJVZ9QKW038JS35MP4DMA8QZVJPTG").has_value());
  CAF_CHECK(!bech32_decode("npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjpTG"));
  // Valid checksums but bad 5-to-8-bit regrouping: non-zero padding bits, and a
  // whole extra 5-bit group (more than 4 padding bits).
  error.clear();
  CAF_CHECK(!bech32_decode("npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8pl6x5k6", &error));
  CAF_CHECK(error.find("padding") != std::string::npos);
  error.clear();
  CAF_CHECK(!bech32_decode("npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qqqavn782", &error));
  CAF_CHECK(error.find("padding") != std::string::npos);
  // Encoding gives back NIP-19's string.
  const std::vector<uint8_t> pk(npub->bytes);
  CAF_CHECK_EQUAL(bech32_encode("npub", pk.data(), pk.size()),
                  "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg");
}
