// Secret key handling and NIP-19 key spellings.
#include "nostr/keys.hpp"

#include "nostr/bech32.hpp"
#include "nostr/hex.hpp"
#include "nostr/secp.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace relayhost::nostr {
namespace {

constexpr std::string_view npub_hrp = "npub";
constexpr std::string_view nsec_hrp = "nsec";

template <class T>
std::optional<T> fail(std::string* error, std::string reason) {
  if (error != nullptr)
    *error = std::move(reason);
  return std::nullopt;
}

bool looks_like(std::string_view text, std::string_view hrp) {
  // "npub1…"/"NPUB1…": a bech32 spelling rather than hex.
  if (text.size() <= hrp.size())
    return false;
  for (size_t i = 0; i < hrp.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
    if (c != hrp[i])
      return false;
  }
  return text[hrp.size()] == '1';
}

// Decodes a NIP-19 bare key (32 bytes under `hrp`). The decoded bytes may be a
// secret (an nsec given where an npub belongs), so they are wiped on every path,
// and the reason never repeats the input.
std::optional<std::array<uint8_t, 32>> decode_bare_key(std::string_view text, std::string_view hrp,
                                                       std::string* error) {
  using result = std::array<uint8_t, 32>;
  std::string why;
  auto decoded = bech32_decode(text, &why);
  if (!decoded)
    return fail<result>(error, "invalid " + std::string(hrp) + ": " + why);
  struct wipe {
    std::vector<uint8_t>& b;
    ~wipe() { OPENSSL_cleanse(b.data(), b.size()); }
  } wiper{decoded->bytes};
  if (decoded->hrp != hrp)
    return fail<result>(error, "expected an " + std::string(hrp) + ", got prefix '" + decoded->hrp + "'");
  if (decoded->bytes.size() != 32)
    return fail<result>(error, "invalid " + std::string(hrp) + ": "
                                 + std::to_string(decoded->bytes.size()) + " bytes instead of 32");
  result out;
  std::copy(decoded->bytes.begin(), decoded->bytes.end(), out.begin());
  return out;
}

} // namespace

std::optional<secret_key> secret_key::from_bytes(const uint8_t bytes32[32]) {
  if (!seckey_valid(bytes32))
    return std::nullopt;
  secret_key k;
  std::copy(bytes32, bytes32 + 32, k.bytes_.begin());
  return k;
}

std::optional<secret_key> secret_key::from_hex(std::string_view hex) {
  std::array<uint8_t, 32> raw;
  std::optional<secret_key> k;
  if (nostr::from_hex(hex, raw.data(), raw.size()))
    k = from_bytes(raw.data());
  OPENSSL_cleanse(raw.data(), raw.size());
  return k;
}

secret_key secret_key::generate() {
  secret_key k;
  do {
    random_bytes(k.bytes_.data(), k.bytes_.size());
  } while (!seckey_valid(k.bytes_.data()));
  return k;
}

secret_key::~secret_key() {
  OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

std::array<uint8_t, 32> secret_key::pubkey() const {
  std::array<uint8_t, 32> pub{};
  if (!xonly_pubkey_of(bytes_.data(), pub.data()))
    throw std::logic_error("secret_key holds an invalid key"); // construction prevents this
  return pub;
}

std::string secret_key::pubkey_hex() const {
  return to_hex(pubkey());
}

std::string secret_key::hex() const {
  return to_hex(bytes_);
}

std::optional<std::string> parse_pubkey(std::string_view text, std::string* error) {
  std::array<uint8_t, 32> pub;
  if (looks_like(text, npub_hrp) || looks_like(text, nsec_hrp)) {
    auto decoded = decode_bare_key(text, npub_hrp, error);
    if (!decoded)
      return std::nullopt;
    pub = *decoded;
  } else if (!from_hex(text, pub.data(), pub.size())) {
    return fail<std::string>(error, "public key must be 64 lowercase hex characters or an npub");
  }
  if (!xonly_pubkey_valid(pub.data()))
    return fail<std::string>(error, "public key is not a valid secp256k1 x-only point");
  return to_hex(pub);
}

std::string parse_pubkey_error(std::string_view text) {
  std::string error;
  return parse_pubkey(text, &error) ? std::string() : error;
}

std::optional<secret_key> parse_secret_key(std::string_view text, std::string* error) {
  std::optional<secret_key> key;
  if (looks_like(text, nsec_hrp) || looks_like(text, npub_hrp)) {
    auto decoded = decode_bare_key(text, nsec_hrp, error);
    if (!decoded)
      return std::nullopt;
    key = secret_key::from_bytes(decoded->data());
    OPENSSL_cleanse(decoded->data(), decoded->size());
  } else {
    if (!is_lower_hex(text, 64))
      return fail<secret_key>(error, "secret key must be 64 lowercase hex characters or an nsec");
    key = secret_key::from_hex(text);
  }
  if (!key)
    return fail<secret_key>(error, "secret key is out of range for secp256k1");
  return key;
}

std::string parse_secret_key_error(std::string_view text) {
  std::string error;
  return parse_secret_key(text, &error) ? std::string() : error;
}

std::string to_npub(std::string_view pubkey_hex) {
  std::array<uint8_t, 32> pub;
  if (!from_hex(pubkey_hex, pub.data(), pub.size()))
    return {};
  return bech32_encode(npub_hrp, pub.data(), pub.size());
}

std::string to_nsec(const secret_key& key) {
  return bech32_encode(nsec_hrp, key.bytes().data(), key.bytes().size());
}

} // namespace relayhost::nostr
