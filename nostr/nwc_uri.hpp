// NIP-47 connection URIs: nostr+walletconnect://<wallet pubkey>?relay=…&secret=…
// Pure parsing and validation. The secret never appears in an error message.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relayhost::nostr {

struct nwc_uri {
  std::string wallet_pubkey;        // 64 lowercase hex
  std::vector<std::string> relays;  // decoded ws:// or wss:// URLs, at least one
  std::string secret_hex;           // 64 lowercase hex, a valid secp256k1 secret key
  std::string lud16;                // optional lightning address ("" if absent)
};

/// Parses and validates; on failure returns nullopt and sets `error` to a reason
/// that is safe to show (it never echoes the secret).
std::optional<nwc_uri> parse_nwc_uri(std::string_view text, std::string* error);

/// True for the URLs parse_relay_url accepts (ws:// and wss://, strictly).
bool is_websocket_url(std::string_view url);

} // namespace relayhost::nostr
