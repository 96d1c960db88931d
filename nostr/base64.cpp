// Strict base64: see base64.hpp for exactly what is accepted.
#include "nostr/base64.hpp"

namespace relayhost::nostr {
namespace {

constexpr char alphabet[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct sextet_table {
  uint8_t v[256];
  constexpr sextet_table() : v{} {
    for (int i = 0; i < 256; ++i)
      v[i] = 0xff;
    for (int i = 0; i < 64; ++i)
      v[static_cast<uint8_t>(alphabet[i])] = static_cast<uint8_t>(i);
  }
};
constexpr sextet_table sextets{};

} // namespace

std::string base64_encode(const uint8_t* data, size_t len) {
  std::string out;
  out.resize(base64_encoded_size(len));
  char* o = out.data();
  size_t i = 0;
  for (; i + 3 <= len; i += 3) {
    uint32_t n = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    *o++ = alphabet[(n >> 18) & 63];
    *o++ = alphabet[(n >> 12) & 63];
    *o++ = alphabet[(n >> 6) & 63];
    *o++ = alphabet[n & 63];
  }
  if (len - i == 1) {
    uint32_t n = uint32_t{data[i]} << 16;
    *o++ = alphabet[(n >> 18) & 63];
    *o++ = alphabet[(n >> 12) & 63];
    *o++ = '=';
    *o++ = '=';
  } else if (len - i == 2) {
    uint32_t n = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8);
    *o++ = alphabet[(n >> 18) & 63];
    *o++ = alphabet[(n >> 12) & 63];
    *o++ = alphabet[(n >> 6) & 63];
    *o++ = '=';
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  return base64_encode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

bool base64_decode(std::string_view text, std::string& out) {
  out.clear();
  // Padding is only legal as the tail of a complete 4-character quantum.
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') {
    if (text.size() % 4 != 0)
      return false;
    pad = (text.size() >= 2 && text[text.size() - 2] == '=') ? 2 : 1;
    text.remove_suffix(pad);
  }
  const size_t rem = text.size() % 4;
  if (rem == 1)
    return false;
  if (pad != 0 && rem != 4 - pad)
    return false;

  out.resize(text.size() / 4 * 3 + (rem == 0 ? 0 : rem - 1));
  char* o = out.data();
  const auto* in = reinterpret_cast<const uint8_t*>(text.data());
  const size_t full = text.size() - rem;
  uint8_t bad = 0;
  for (size_t i = 0; i < full; i += 4) {
    uint8_t a = sextets.v[in[i]], b = sextets.v[in[i + 1]];
    uint8_t c = sextets.v[in[i + 2]], d = sextets.v[in[i + 3]];
    bad |= a | b | c | d;
    uint32_t n = (uint32_t{a} << 18) | (uint32_t{b} << 12) | (uint32_t{c} << 6) | d;
    *o++ = static_cast<char>(n >> 16);
    *o++ = static_cast<char>(n >> 8);
    *o++ = static_cast<char>(n);
  }
  if (rem == 2) {
    uint8_t a = sextets.v[in[full]], b = sextets.v[in[full + 1]];
    bad |= a | b;
    if ((b & 0x0f) != 0) // the 4 unused bits must be zero
      bad = 0xff;
    *o++ = static_cast<char>((a << 2) | (b >> 4));
  } else if (rem == 3) {
    uint8_t a = sextets.v[in[full]], b = sextets.v[in[full + 1]], c = sextets.v[in[full + 2]];
    bad |= a | b | c;
    if ((c & 0x03) != 0) // the 2 unused bits must be zero
      bad = 0xff;
    uint32_t n = (uint32_t{a} << 10) | (uint32_t{b} << 4) | (c >> 2);
    *o++ = static_cast<char>(n >> 8);
    *o++ = static_cast<char>(n);
  }
  if (bad & 0xc0) { // 0xff marks a character outside the alphabet (or set bits above)
    out.clear();
    return false;
  }
  return true;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  if (!base64_decode(text, out))
    return std::nullopt;
  return out;
}

} // namespace relayhost::nostr
