// NIP-44 v2 encryption (used by NIP-17/59 DMs and NIP-47 wallet requests):
// conversation keys, padding, ChaCha20 + HMAC-SHA256, base64 payloads. Includes
// the long-message extension (plaintexts >= 65536 bytes carry a 6-byte length
// prefix: 0x0000 then the u32 big-endian length). Pure: no I/O.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relayhost::nostr {

class secret_key;

/// The shared key of two parties (secret: wiped on destruction).
struct nip44_conversation_key {
  std::array<uint8_t, 32> bytes{};
  ~nip44_conversation_key();
};

/// HKDF-extract(salt "nip44-v2", x coordinate of a·B). nullopt when the secret key
/// is invalid or `pubkey_hex` is not 64 lowercase hex of a curve point.
std::optional<nip44_conversation_key> nip44_get_conversation_key(const secret_key& a,
                                                                 std::string_view pubkey_hex);
std::optional<nip44_conversation_key> nip44_get_conversation_key(const uint8_t seckey32[32],
                                                                 const uint8_t xonly_pub32[32]);

struct nip44_message_keys {
  std::array<uint8_t, 32> chacha_key{};
  std::array<uint8_t, 12> chacha_nonce{};
  std::array<uint8_t, 32> hmac_key{};
  ~nip44_message_keys();
};

/// HKDF-expand(conversation key, info = nonce, 76 bytes), split 32/12/32.
nip44_message_keys nip44_get_message_keys(const nip44_conversation_key& key, const uint8_t nonce32[32]);

/// Padded length of a plaintext of `unpadded_len` (>= 1) bytes.
size_t nip44_calc_padded_len(size_t unpadded_len);

/// Largest plaintext NIP-44 can carry (u32 length prefix).
inline constexpr size_t nip44_max_plaintext = 0xffffffffu;

/// Encrypts with a fresh random nonce. Throws std::invalid_argument when the
/// plaintext is empty or longer than nip44_max_plaintext.
std::string nip44_encrypt(std::string_view plaintext, const nip44_conversation_key& key);
/// Same with a given nonce (test vectors only: never reuse a nonce).
std::string nip44_encrypt(std::string_view plaintext, const nip44_conversation_key& key,
                          const uint8_t nonce32[32]);

/// Decrypts; checks in NIP-44's order: version marker, payload length, base64
/// (padded, strict), version byte, MAC (constant time), padding. `error` gets the
/// failed check. The plaintext is returned as bytes (not checked for UTF-8).
std::optional<std::string> nip44_decrypt(std::string_view payload, const nip44_conversation_key& key,
                                         std::string* error = nullptr);

} // namespace relayhost::nostr
