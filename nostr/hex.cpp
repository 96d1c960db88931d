// Lowercase-only hex codec (see hex.hpp for why uppercase is rejected).
#include "nostr/hex.hpp"

namespace relayhost::nostr {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

// Value of a lowercase hex digit, or 0xff.
struct nibble_table {
  uint8_t v[256];
  constexpr nibble_table() : v{} {
    for (int i = 0; i < 256; ++i)
      v[i] = 0xff;
    for (int i = 0; i < 10; ++i)
      v['0' + i] = static_cast<uint8_t>(i);
    for (int i = 0; i < 6; ++i)
      v['a' + i] = static_cast<uint8_t>(10 + i);
  }
};
constexpr nibble_table nibbles{};

} // namespace

std::string to_hex(const uint8_t* data, size_t len) {
  std::string out(len * 2, '\0');
  for (size_t i = 0; i < len; ++i) {
    out[2 * i] = hex_digits[data[i] >> 4];
    out[2 * i + 1] = hex_digits[data[i] & 0x0f];
  }
  return out;
}

bool from_hex(std::string_view hex, uint8_t* out, size_t out_len) noexcept {
  if (hex.size() != out_len * 2)
    return false;
  uint8_t bad = 0;
  for (size_t i = 0; i < out_len; ++i) {
    uint8_t hi = nibbles.v[static_cast<uint8_t>(hex[2 * i])];
    uint8_t lo = nibbles.v[static_cast<uint8_t>(hex[2 * i + 1])];
    bad |= (hi | lo) & 0xf0;
    out[i] = static_cast<uint8_t>((hi << 4) | (lo & 0x0f));
  }
  return bad == 0;
}

bool is_lower_hex(std::string_view s, size_t len) noexcept {
  if (s.size() != len)
    return false;
  uint8_t bad = 0;
  for (char c : s)
    bad |= nibbles.v[static_cast<uint8_t>(c)] & 0xf0;
  return bad == 0;
}

} // namespace relayhost::nostr
