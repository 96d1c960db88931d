// Nostr keys: the secret key type (wiped on destruction, never printable) and
// the parsers for the two spellings of each key (hex, NIP-19 npub/nsec).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relayhost::nostr {

/// A valid secp256k1 secret key (0 < k < n). There is deliberately no operator<<
/// and no implicit conversion to text: the only way to spell it is hex() or
/// to_nsec(), both meant for writing the key file. Every copy wipes itself.
class secret_key {
public:
  /// 64 lowercase hex characters of a valid key.
  static std::optional<secret_key> from_hex(std::string_view hex);
  /// 32 bytes of a valid key.
  static std::optional<secret_key> from_bytes(const uint8_t bytes32[32]);
  /// A fresh key from OpenSSL's CSPRNG (redrawn until valid).
  static secret_key generate();

  secret_key(const secret_key&) = default;
  secret_key& operator=(const secret_key&) = default;
  ~secret_key();

  /// The x-only public key, 64 lowercase hex characters.
  std::string pubkey_hex() const;
  std::array<uint8_t, 32> pubkey() const;

  /// Lowercase hex of the secret: only for writing the key file.
  std::string hex() const;
  const std::array<uint8_t, 32>& bytes() const { return bytes_; }

private:
  secret_key() = default;
  std::array<uint8_t, 32> bytes_{};
};

/// A public key as 64 lowercase hex characters, from either 64 lowercase hex
/// characters or an npub (NIP-19), in both cases a valid x-only point. On failure
/// `error` (optional) gets a reason fit for a config error line.
std::optional<std::string> parse_pubkey(std::string_view hex_or_npub, std::string* error = nullptr);
/// The reason parse_pubkey rejects `text`, or "" when it accepts it.
std::string parse_pubkey_error(std::string_view hex_or_npub);

/// A secret key from 64 lowercase hex characters or an nsec (NIP-19). The
/// reason in `error` never repeats the input.
std::optional<secret_key> parse_secret_key(std::string_view hex_or_nsec, std::string* error = nullptr);
/// The reason parse_secret_key rejects `text`, or "" when it accepts it.
std::string parse_secret_key_error(std::string_view hex_or_nsec);

/// npub1… of a 64-hex public key ("" when `pubkey_hex` is not 64 lowercase hex).
std::string to_npub(std::string_view pubkey_hex);
/// nsec1… of the key: only for writing or showing the key once, never for logs.
std::string to_nsec(const secret_key& key);

} // namespace relayhost::nostr
