// Bech32 (BIP-173, checksum constant 1 — not bech32m) as NIP-19 uses it for
// npub/nsec. Data is carried as 8-bit bytes; the 5-bit regrouping is internal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relayhost::nostr {

struct bech32_data {
  std::string hrp;  // always lowercase
  std::vector<uint8_t> bytes;
};

/// Longest string the decoder accepts. BIP-173's 90 is too short for NIP-19's
/// TLV entities (nprofile, nevent), which the NIP exempts from it.
inline constexpr size_t bech32_max_length = 5000;

/// Encodes `len` bytes under `hrp` (lowercase, 1–83 printable ASCII characters).
std::string bech32_encode(std::string_view hrp, const uint8_t* data, size_t len);

/// Decodes; all-lowercase or all-uppercase only (mixed case is rejected), valid
/// checksum, zero padding of at most 4 bits. `error` (optional) gets a reason that
/// never repeats the input.
std::optional<bech32_data> bech32_decode(std::string_view text, std::string* error = nullptr);

} // namespace relayhost::nostr
