// SHA-256 (OpenSSL) for event ids, NIP-98 payload hashes and HKDF inputs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace relayhost::nostr {

using sha256_digest = std::array<uint8_t, 32>;

sha256_digest sha256(std::string_view data);
sha256_digest sha256(const uint8_t* data, size_t len);

/// Lowercase hex of the SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

} // namespace relayhost::nostr
