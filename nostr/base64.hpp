// Standard base64 (RFC 4648 §4 alphabet) for NIP-98 tokens and NIP-44 payloads.
// The encoder always pads. The decoder is strict: padded or unpadded input is
// accepted, but no whitespace, no URL-safe alphabet, no length that cannot come
// from an encoder (len % 4 == 1, or padding that does not complete a quantum),
// and no non-zero bits in the final character's unused low bits (so every byte
// string has exactly one padded and one unpadded spelling).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relayhost::nostr {

std::string base64_encode(std::string_view bytes);
std::string base64_encode(const uint8_t* data, size_t len);

/// Decodes into `out` (replacing its contents). False on any violation above.
bool base64_decode(std::string_view text, std::string& out);
std::optional<std::string> base64_decode(std::string_view text);

/// Upper bound of the decoded size of `encoded_len` characters.
constexpr size_t base64_max_decoded_size(size_t encoded_len) noexcept {
  return encoded_len / 4 * 3 + 2;
}

/// Length of the padded encoding of `len` bytes.
constexpr size_t base64_encoded_size(size_t len) noexcept {
  return (len + 2) / 3 * 4;
}

} // namespace relayhost::nostr
