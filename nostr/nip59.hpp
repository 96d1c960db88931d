// NIP-59 seal and gift wrap around NIP-17 kind-14 direct messages. Pure (uses the
// system's randomness for the throwaway keys, the NIP-44 nonces and the timestamps).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "nostr/event.hpp"

namespace relayhost::nostr {

class secret_key;

inline constexpr int kind_dm = 14;
inline constexpr int kind_seal = 13;
inline constexpr int kind_gift_wrap = 1059;
/// Seal and wrap timestamps are drawn uniformly from [now − this, now].
inline constexpr int64_t nip59_max_backdate_seconds = 2 * 24 * 3600;

struct dm_message {
  std::string recipient_pubkey;  // 64 lowercase hex
  std::string text;              // the message (non-empty, valid UTF-8)
  int64_t now = 0;               // unix seconds: the rumor's created_at
};

/// The unsigned kind-14 rumor (id set, sig empty) from `sender_pubkey`.
event make_dm_rumor(std::string_view sender_pubkey, const dm_message& dm);
/// Kind 13 signed by `sender`: nip44(rumor JSON, conv(sender, recipient)).
event seal_rumor(const event& rumor, const secret_key& sender, std::string_view recipient_pubkey, int64_t now);
/// Kind 1059 signed by a fresh key: nip44(seal JSON, conv(fresh, recipient)), `p` tag.
event gift_wrap(const event& seal, std::string_view recipient_pubkey, int64_t now);
/// All three. Throws std::invalid_argument on a bad recipient key or empty text.
event wrap_dm(const secret_key& sender, const dm_message& dm);

struct unwrapped_dm {
  event rumor;   // kind 14 (id checked, no signature)
  event seal;    // verified, signed by the sender
  std::string sender;  // seal.pubkey == rumor.pubkey
};

/// Opens a gift wrap addressed to `recipient`: verifies the wrap and the seal,
/// decrypts both layers, checks the rumor's id and that its author is the seal's.
/// nullopt with `error` set on any failure.
std::optional<unwrapped_dm> unwrap_dm(const event& wrap, const secret_key& recipient, std::string* error = nullptr);

} // namespace relayhost::nostr
