// Secrets at rest (NWC URLs, relays' secret keys): AES-256-GCM under a key derived
// from the platform secret with HKDF-SHA256. Each blob is bound to its owner by
// associated data (e.g. "relay-secret:<relay id>"), so a blob copied to another
// row does not decrypt. Pure: no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relayhost {

class sealed_box {
public:
  /// Derives the at-rest key from the 32-byte platform secret.
  explicit sealed_box(const std::array<uint8_t, 32>& platform_secret);
  ~sealed_box();
  sealed_box(const sealed_box&) = default;
  sealed_box& operator=(const sealed_box&) = default;

  /// version(1) ‖ nonce(12) ‖ ciphertext ‖ tag(16); a fresh random nonce each call.
  std::vector<uint8_t> seal(std::string_view plaintext, std::string_view associated) const;

  /// nullopt when the blob was not sealed by this key for `associated`, or is damaged.
  std::optional<std::string> open(const std::vector<uint8_t>& blob, std::string_view associated) const;

private:
  std::array<uint8_t, 32> key_{};
};

} // namespace relayhost
