// NIP-01 / NIP-42 messages between a client and a relay: parsing what a relay
// sends (strictly, never trusting it) and building what a client sends. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nostr/event.hpp"

namespace relayhost::nostr {

enum class relay_message_type { malformed, event, ok, eose, closed, notice, auth, count, unknown };

struct relay_message {
  relay_message_type type = relay_message_type::malformed;
  std::string subscription_id;  // EVENT, EOSE, CLOSED, COUNT
  std::optional<nostr::event> event;  // EVENT (parsed, NOT verified: the caller verifies)
  std::string event_id;         // OK (64 lowercase hex)
  bool accepted = false;        // OK
  std::string message;          // OK, CLOSED, NOTICE (may be empty)
  std::string challenge;        // AUTH
  std::string error;            // malformed: why (never quotes the input)
};

/// Parses one text message from a relay. Anything not an array with a string
/// first element, with the wrong arity or types, is `malformed`; a well-formed
/// array with a type relayhost does not know is `unknown`. Never throws.
relay_message parse_relay_message(std::string_view text);

/// `["EVENT",<event>]`
std::string client_event_message(const event& ev);
/// `["REQ",<id>,<filter>…]`; each filter is a JSON object's text (inserted as
/// parsed JSON; throws std::invalid_argument when one is not an object).
std::string client_req_message(const std::string& subscription_id, const std::vector<std::string>& filters);
/// `["CLOSE",<id>]`
std::string client_close_message(const std::string& subscription_id);
/// `["AUTH",<signed kind-22242 event>]`
std::string client_auth_message(const event& ev);

/// The machine-readable prefix of an OK/CLOSED message: "auth-required" for
/// "auth-required: please authenticate"; empty when there is no `prefix:`.
std::string machine_prefix(std::string_view message);

/// The unsigned kind-22242 event answering `challenge` from `relay_url` (NIP-42).
event auth_event(std::string_view relay_url, std::string_view challenge, int64_t now);

} // namespace relayhost::nostr
