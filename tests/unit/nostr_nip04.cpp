// NIP-04 (AES-256-CBC, key = the shared point's unhashed x), against a vector made
// with Node's AES and @noble/curves' ECDH (the libraries nostr-tools uses), and
// every way a payload can be wrong.
#undef CAF_SUITE
#define CAF_SUITE nostr_nip04
#include <caf/test/unit_test.hpp>

#include <string>

#include "nostr/keys.hpp"
#include "nostr/nip04.hpp"

using namespace relayhost::nostr;

namespace {

// Secret keys 1 and 2; the payload was made with
//   secp256k1.getSharedSecret(sk1, "02" + pk2).slice(1, 33) as the AES-256-CBC key,
//   IV 000102…0f, plaintext "nostr wallet connect ✓",
// and nostr-tools' nip04.decrypt(sk2, pk1, payload) gives the plaintext back.
const std::string sk1 = std::string(63, '0') + "1";
const std::string sk2 = std::string(63, '0') + "2";
const std::string pk1 = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
const std::string pk2 = "c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5";
const std::string plaintext = "nostr wallet connect \xE2\x9C\x93";
const std::string payload = "W7JcHJiSz8qnq1wBWZm6OVr16SEnjHU4jtGYJwXZqRM=?iv=AAECAwQFBgcICQoLDA0ODw==";

secret_key key(const std::string& hex) {
  return *secret_key::from_hex(hex);
}

std::string why(const std::string& p, const std::string& peer = pk1) {
  std::string error;
  auto out = nip04_decrypt(key(sk2), peer, p, &error);
  return out ? "<decrypted>" : error;
}

} // namespace

CAF_TEST(the vector both ways) {
  CAF_CHECK_EQUAL(key(sk1).pubkey_hex(), pk1);
  CAF_CHECK_EQUAL(key(sk2).pubkey_hex(), pk2);
  const unsigned char iv[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  CAF_CHECK_EQUAL(nip04_encrypt(key(sk1), pk2, plaintext, iv), payload);
  auto a = nip04_decrypt(key(sk2), pk1, payload);
  CAF_REQUIRE(a);
  CAF_CHECK_EQUAL(*a, plaintext);
  auto b = nip04_decrypt(key(sk1), pk2, payload);  // the shared key is symmetric
  CAF_REQUIRE(b);
  CAF_CHECK_EQUAL(*b, plaintext);
}

CAF_TEST(fresh ivs round trip every length) {
  auto a = key(sk1), b = key(sk2);
  for (size_t n : {0u, 1u, 15u, 16u, 17u, 1000u}) {
    std::string text(n, 'z');
    auto p1 = nip04_encrypt(a, pk2, text);
    auto p2 = nip04_encrypt(a, pk2, text);
    CAF_CHECK_NOT_EQUAL(p1, p2);  // a new IV each time
    auto back = nip04_decrypt(b, pk1, p1);
    CAF_REQUIRE(back);
    CAF_CHECK_EQUAL(*back, text);
  }
}

CAF_TEST(bad payloads say why) {
  CAF_CHECK_EQUAL(why("W7JcHJiSz8qnq1wBWZm6OVr16SEnjHU4jtGYJwXZqRM="), "no ?iv= in the payload");
  CAF_CHECK_EQUAL(why("!!!?iv=AAECAwQFBgcICQoLDA0ODw=="), "ciphertext is not valid base64");
  CAF_CHECK_EQUAL(why("W7JcHJiSz8qnq1wBWZm6OVr16SEnjHU4jtGYJwXZqRM=?iv=***"), "iv is not valid base64");
  CAF_CHECK_EQUAL(why("W7JcHJiSz8qnq1wBWZm6OVr16SEnjHU4jtGYJwXZqRM=?iv=AAEC"), "iv is not 16 bytes");
  CAF_CHECK_EQUAL(why("?iv=AAECAwQFBgcICQoLDA0ODw=="), "ciphertext is not a positive multiple of 16 bytes");
  CAF_CHECK_EQUAL(why("AAAA?iv=AAECAwQFBgcICQoLDA0ODw=="), "ciphertext is not a positive multiple of 16 bytes");
  CAF_CHECK_EQUAL(why(payload, std::string(64, 'f')), "invalid key");
  CAF_CHECK_EQUAL(why(payload, "xyz"), "invalid key");
  CAF_CHECK_EQUAL(why(std::string(1024 * 1024 + 1, 'A')), "payload longer than 1 MiB");
  // Another peer's key: a different AES key, so the padding does not check out
  // (or, 1 in 256, garbage comes out; never the plaintext).
  auto other = secret_key::generate().pubkey_hex();
  auto wrong = nip04_decrypt(key(sk2), other, payload);
  CAF_CHECK(!wrong || *wrong != plaintext);
  bool threw = false;
  try {
    nip04_encrypt(key(sk1), "not a key", "x");
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CAF_CHECK(threw);
}
