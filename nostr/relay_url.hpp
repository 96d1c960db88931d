// Relay URLs: parsed strictly and normalised, so one relay is one connection
// however its URL was spelled. Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relayhost::nostr {

struct relay_url {
  std::string normalized;  // "wss://relay.example.com/path" (see parse_relay_url)
  bool tls = false;        // wss
  std::string host;        // lower case; IPv6 without brackets
  uint16_t port = 0;       // always set: 80 / 443 when the URL had none
  std::string target;      // path + query for the upgrade request, "/" at least
};

/// Accepts `ws://` and `wss://` URLs (scheme case-insensitive) with a host name,
/// IPv4 or bracketed IPv6 address, an optional port 1–65535, path and query.
/// Rejects user info, fragments, empty hosts, spaces and control characters, and
/// anything over 2048 bytes. Normalised: scheme and host lower case, the default
/// port (80 for ws, 443 for wss) dropped, a path of only "/" dropped (so
/// "wss://R.example:443/" → "wss://r.example"), any other trailing slash dropped,
/// path and query kept as written. On failure `error` gets a short reason.
std::optional<relay_url> parse_relay_url(std::string_view url, std::string* error = nullptr);

} // namespace relayhost::nostr
