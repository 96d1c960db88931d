// Hex codec for Nostr ids, keys and signatures. Nostr's wire format spells hex in
// lowercase only, so the decoder is strict: one spelling per value means ids and
// pubkeys can be compared as strings everywhere else.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace relayhost::nostr {

/// Lowercase hex of `len` bytes.
std::string to_hex(const uint8_t* data, size_t len);

template <size_t N>
std::string to_hex(const std::array<uint8_t, N>& bytes) {
  return to_hex(bytes.data(), N);
}

/// Decodes exactly `out_len` bytes from `hex`, which must be exactly 2*out_len
/// LOWERCASE hex digits ("AB" is rejected). On failure returns false and the
/// contents of `out` are unspecified.
bool from_hex(std::string_view hex, uint8_t* out, size_t out_len) noexcept;

/// True when `s` is exactly `len` characters of [0-9a-f].
bool is_lower_hex(std::string_view s, size_t len) noexcept;

} // namespace relayhost::nostr
