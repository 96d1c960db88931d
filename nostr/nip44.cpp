// NIP-44 v2 over libsecp256k1 (ECDH) and OpenSSL (HMAC-SHA256, ChaCha20).
#include "nostr/nip44.hpp"

#include "nostr/base64.hpp"
#include "nostr/hex.hpp"
#include "nostr/keys.hpp"
#include "nostr/secp.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>

namespace relayhost::nostr {
namespace {

constexpr uint8_t version_byte = 2;
constexpr size_t nonce_len = 32;
constexpr size_t mac_len = 32;
constexpr size_t min_payload_chars = 132; // base64 of the smallest message (99 bytes)
constexpr size_t min_decoded_len = 1 + nonce_len + 2 + 32 + mac_len;
constexpr size_t extended_prefix_threshold = 65536;
constexpr std::string_view conversation_salt = "nip44-v2";

void hmac_sha256(const uint8_t* key, size_t key_len, const uint8_t* d1, size_t l1, const uint8_t* d2,
                 size_t l2, uint8_t out[32]) {
  // HMAC(key, d1 || d2) without concatenating. The HMAC implementation is
  // fetched once (a fetch is a by-name lookup).
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = mac ? EVP_MAC_CTX_new(mac) : nullptr;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()};
  size_t out_len = 0;
  const bool ok = ctx != nullptr && EVP_MAC_init(ctx, key, key_len, params) == 1
                  && EVP_MAC_update(ctx, d1, l1) == 1 && (l2 == 0 || EVP_MAC_update(ctx, d2, l2) == 1)
                  && EVP_MAC_final(ctx, out, &out_len, 32) == 1 && out_len == 32;
  EVP_MAC_CTX_free(ctx);
  if (!ok)
    std::abort(); // only on allocation failure inside libcrypto
}

// ChaCha20 with a 32-bit block counter starting at 0 (OpenSSL's 16-byte IV is the
// little-endian counter followed by the 12-byte nonce). Encrypt == decrypt.
std::string chacha20(const nip44_message_keys& k, const uint8_t* in, size_t len) {
  uint8_t iv[16] = {0, 0, 0, 0};
  std::memcpy(iv + 4, k.chacha_nonce.data(), 12);
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string out(len, '\0');
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_chacha20(), nullptr, k.chacha_key.data(), iv) != 1)
    std::abort();
  auto* o = reinterpret_cast<uint8_t*>(out.data());
  constexpr size_t step = size_t{1} << 30; // EVP takes int lengths
  for (size_t done = 0; done < len;) {
    const size_t n = std::min(step, len - done);
    int written = 0;
    if (EVP_EncryptUpdate(ctx.get(), o + done, &written, in + done, static_cast<int>(n)) != 1
        || static_cast<size_t>(written) != n)
      std::abort();
    done += n;
  }
  return out;
}

std::nullopt_t fail(std::string* error, const char* why) {
  if (error != nullptr)
    *error = why;
  return std::nullopt;
}

} // namespace

nip44_conversation_key::~nip44_conversation_key() {
  OPENSSL_cleanse(bytes.data(), bytes.size());
}

nip44_message_keys::~nip44_message_keys() {
  OPENSSL_cleanse(chacha_key.data(), chacha_key.size());
  OPENSSL_cleanse(hmac_key.data(), hmac_key.size());
}

std::optional<nip44_conversation_key> nip44_get_conversation_key(const uint8_t seckey32[32],
                                                                 const uint8_t xonly_pub32[32]) {
  uint8_t shared_x[32];
  if (!ecdh_shared_x(seckey32, xonly_pub32, shared_x))
    return std::nullopt; // invalid secret key (0 or >= n) or not a curve point
  nip44_conversation_key key;
  hmac_sha256(reinterpret_cast<const uint8_t*>(conversation_salt.data()), conversation_salt.size(), shared_x,
              sizeof shared_x, nullptr, 0, key.bytes.data());
  OPENSSL_cleanse(shared_x, sizeof shared_x);
  return key;
}

std::optional<nip44_conversation_key> nip44_get_conversation_key(const secret_key& a,
                                                                 std::string_view pubkey_hex) {
  uint8_t pub[32];
  if (!from_hex(pubkey_hex, pub, sizeof pub))
    return std::nullopt;
  return nip44_get_conversation_key(a.bytes().data(), pub);
}

nip44_message_keys nip44_get_message_keys(const nip44_conversation_key& key, const uint8_t nonce32[32]) {
  // HKDF-expand with L = 76: T1 = HMAC(prk, info|1), Ti = HMAC(prk, T(i-1)|info|i).
  uint8_t okm[96];
  uint8_t block[32 + nonce_len + 1];
  size_t prev = 0;
  for (uint8_t i = 1; i <= 3; ++i) {
    std::memcpy(block + prev, nonce32, nonce_len);
    block[prev + nonce_len] = i;
    hmac_sha256(key.bytes.data(), key.bytes.size(), block, prev + nonce_len + 1, nullptr, 0, okm + 32 * (i - 1));
    std::memcpy(block, okm + 32 * (i - 1), 32);
    prev = 32;
  }
  nip44_message_keys k;
  std::memcpy(k.chacha_key.data(), okm, 32);
  std::memcpy(k.chacha_nonce.data(), okm + 32, 12);
  std::memcpy(k.hmac_key.data(), okm + 44, 32);
  OPENSSL_cleanse(okm, sizeof okm);
  OPENSSL_cleanse(block, sizeof block);
  return k;
}

size_t nip44_calc_padded_len(size_t len) {
  if (len <= 32)
    return 32;
  size_t next_power = 1;
  while (next_power <= len - 1) // 2^(floor(log2(len - 1)) + 1)
    next_power <<= 1;
  const size_t chunk = next_power <= 256 ? 32 : next_power / 8;
  return chunk * ((len - 1) / chunk + 1);
}

std::string nip44_encrypt(std::string_view plaintext, const nip44_conversation_key& key,
                          const uint8_t nonce32[32]) {
  const size_t len = plaintext.size();
  if (len < 1 || len > nip44_max_plaintext)
    throw std::invalid_argument("NIP-44 plaintext must be 1 to 4294967295 bytes");
  // Padded plaintext: length prefix, plaintext, zeros.
  const size_t prefix = len >= extended_prefix_threshold ? 6 : 2;
  std::string padded(prefix + nip44_calc_padded_len(len), '\0');
  auto* p = reinterpret_cast<uint8_t*>(padded.data());
  if (prefix == 2) {
    p[0] = static_cast<uint8_t>(len >> 8);
    p[1] = static_cast<uint8_t>(len);
  } else {
    for (int i = 0; i < 4; ++i)
      p[2 + i] = static_cast<uint8_t>(len >> (8 * (3 - i)));
  }
  std::memcpy(p + prefix, plaintext.data(), len);

  const nip44_message_keys k = nip44_get_message_keys(key, nonce32);
  const std::string ciphertext = chacha20(k, p, padded.size());
  OPENSSL_cleanse(padded.data(), padded.size());
  const auto* c = reinterpret_cast<const uint8_t*>(ciphertext.data());
  uint8_t mac[mac_len];
  hmac_sha256(k.hmac_key.data(), k.hmac_key.size(), nonce32, nonce_len, c, ciphertext.size(), mac);

  std::string raw;
  raw.reserve(1 + nonce_len + ciphertext.size() + mac_len);
  raw.push_back(static_cast<char>(version_byte));
  raw.append(reinterpret_cast<const char*>(nonce32), nonce_len);
  raw.append(ciphertext);
  raw.append(reinterpret_cast<const char*>(mac), mac_len);
  return base64_encode(raw);
}

std::string nip44_encrypt(std::string_view plaintext, const nip44_conversation_key& key) {
  uint8_t nonce[nonce_len];
  random_bytes(nonce, sizeof nonce);
  return nip44_encrypt(plaintext, key, nonce);
}

std::optional<std::string> nip44_decrypt(std::string_view payload, const nip44_conversation_key& key,
                                         std::string* error) {
  if (payload.empty() || payload[0] == '#')
    return fail(error, "unknown encryption version");
  if (payload.size() < min_payload_chars)
    return fail(error, "invalid payload length");
  std::string raw;
  if (payload.size() % 4 != 0 || !base64_decode(payload, raw))
    return fail(error, "invalid base64");
  if (raw.size() < min_decoded_len)
    return fail(error, "invalid payload length");
  if (static_cast<uint8_t>(raw[0]) != version_byte)
    return fail(error, "unknown encryption version");

  const auto* r = reinterpret_cast<const uint8_t*>(raw.data());
  const uint8_t* nonce = r + 1;
  const uint8_t* ciphertext = r + 1 + nonce_len;
  const size_t ciphertext_len = raw.size() - 1 - nonce_len - mac_len;
  const uint8_t* mac = r + raw.size() - mac_len;

  const nip44_message_keys k = nip44_get_message_keys(key, nonce);
  uint8_t expected[mac_len];
  hmac_sha256(k.hmac_key.data(), k.hmac_key.size(), nonce, nonce_len, ciphertext, ciphertext_len, expected);
  if (CRYPTO_memcmp(expected, mac, mac_len) != 0)
    return fail(error, "invalid MAC");

  std::string padded = chacha20(k, ciphertext, ciphertext_len);
  const auto* p = reinterpret_cast<const uint8_t*>(padded.data());
  size_t prefix = 2;
  size_t len = (size_t{p[0]} << 8) | p[1];
  if (len == 0) { // extended form: 0x0000 then u32 big-endian, only for long messages
    if (padded.size() < 6)
      return fail(error, "invalid padding");
    prefix = 6;
    len = (size_t{p[2]} << 24) | (size_t{p[3]} << 16) | (size_t{p[4]} << 8) | p[5];
    if (len < extended_prefix_threshold)
      return fail(error, "invalid padding");
  }
  if (prefix + len > padded.size() || padded.size() != prefix + nip44_calc_padded_len(len)) {
    OPENSSL_cleanse(padded.data(), padded.size());
    return fail(error, "invalid padding");
  }
  std::string plaintext = padded.substr(prefix, len);
  OPENSSL_cleanse(padded.data(), padded.size());
  return plaintext;
}

} // namespace relayhost::nostr
