// Bech32 per BIP-173's reference implementation.
#include "nostr/bech32.hpp"

namespace relayhost::nostr {
namespace {

constexpr char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
constexpr uint32_t bech32_const = 1;

constexpr int8_t charset_rev(char c) {
  for (int i = 0; i < 32; ++i)
    if (charset[i] == c)
      return static_cast<int8_t>(i);
  return -1;
}

uint32_t polymod(const std::vector<uint8_t>& values) {
  uint32_t chk = 1;
  for (uint8_t v : values) {
    uint8_t top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    if (top & 1) chk ^= 0x3b6a57b2;
    if (top & 2) chk ^= 0x26508e6d;
    if (top & 4) chk ^= 0x1ea119fa;
    if (top & 8) chk ^= 0x3d4233dd;
    if (top & 16) chk ^= 0x2a1462b3;
  }
  return chk;
}

std::vector<uint8_t> hrp_expand(std::string_view hrp) {
  std::vector<uint8_t> out;
  out.reserve(hrp.size() * 2 + 1);
  for (char c : hrp)
    out.push_back(static_cast<uint8_t>(c) >> 5);
  out.push_back(0);
  for (char c : hrp)
    out.push_back(static_cast<uint8_t>(c) & 31);
  return out;
}

std::nullopt_t fail(std::string* error, const char* reason) {
  if (error != nullptr)
    *error = reason;
  return std::nullopt;
}

} // namespace

std::string bech32_encode(std::string_view hrp, const uint8_t* data, size_t len) {
  // 8-bit → 5-bit groups, zero-padded.
  std::vector<uint8_t> values = hrp_expand(hrp);
  const size_t data_start = values.size();
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; ++i) {
    acc = (acc << 8) | data[i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      values.push_back((acc >> bits) & 31);
    }
  }
  if (bits > 0)
    values.push_back((acc << (5 - bits)) & 31);
  const size_t data_end = values.size();
  values.insert(values.end(), 6, 0);
  const uint32_t mod = polymod(values) ^ bech32_const;

  std::string out(hrp);
  out.reserve(hrp.size() + 1 + (data_end - data_start) + 6);
  out.push_back('1');
  for (size_t i = data_start; i < data_end; ++i)
    out.push_back(charset[values[i]]);
  for (int i = 0; i < 6; ++i)
    out.push_back(charset[(mod >> (5 * (5 - i))) & 31]);
  return out;
}

std::optional<bech32_data> bech32_decode(std::string_view text, std::string* error) {
  if (text.size() > bech32_max_length)
    return fail(error, "bech32 string too long");
  bool has_lower = false, has_upper = false;
  for (char c : text) {
    if (c < 33 || c > 126)
      return fail(error, "bech32 string has a character outside printable ASCII");
    has_lower |= (c >= 'a' && c <= 'z');
    has_upper |= (c >= 'A' && c <= 'Z');
  }
  if (has_lower && has_upper)
    return fail(error, "bech32 string mixes upper and lower case");
  const size_t sep = text.rfind('1');
  if (sep == std::string_view::npos || sep == 0)
    return fail(error, "bech32 string has no human-readable prefix");
  if (text.size() - sep - 1 < 6)
    return fail(error, "bech32 string too short for a checksum");

  bech32_data result;
  result.hrp.reserve(sep);
  for (size_t i = 0; i < sep; ++i) {
    char c = text[i];
    result.hrp.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
  }
  std::vector<uint8_t> values = hrp_expand(result.hrp);
  const size_t data_start = values.size();
  for (size_t i = sep + 1; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
    int8_t v = charset_rev(c);
    if (v < 0)
      return fail(error, "bech32 string has a character outside the bech32 alphabet");
    values.push_back(static_cast<uint8_t>(v));
  }
  if (polymod(values) != bech32_const)
    return fail(error, "bech32 checksum mismatch");

  // 5-bit → 8-bit, the padding must be < 5 bits and zero.
  uint32_t acc = 0;
  int bits = 0;
  const size_t data_end = values.size() - 6;
  result.bytes.reserve((data_end - data_start) * 5 / 8);
  for (size_t i = data_start; i < data_end; ++i) {
    acc = ((acc << 5) | values[i]) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      result.bytes.push_back(static_cast<uint8_t>(acc >> bits));
    }
  }
  if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
    return fail(error, "bech32 data has invalid padding");
  return result;
}

} // namespace relayhost::nostr
