// NIP-01 events: strict parsing, the canonical serialization the id is the hash
// of, id/signature verification and signing.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relayhost::nostr {

class secret_key;

struct event {
  std::string id;      // 64 lowercase hex
  std::string pubkey;  // 64 lowercase hex (x-only)
  int64_t created_at = 0;
  int kind = 0;
  std::vector<std::vector<std::string>> tags;
  std::string content;
  std::string sig;     // 128 lowercase hex
};

/// Range limits the parser and the signer enforce. created_at stops at 2^53 - 1:
/// past it JavaScript clients cannot hold the number exactly and would hash a
/// different serialization.
inline constexpr int64_t event_max_created_at = (int64_t{1} << 53) - 1;
inline constexpr int event_max_kind = 65535;

/// Parses one event object. Strict: all seven fields present exactly once;
/// `created_at` an integer in [0, 2^53) and `kind` an integer in [0, 65535]
/// (floats, strings, exponents rejected: they would serialise differently);
/// `id`/`pubkey`/`sig` lowercase hex of 64/64/128 characters; `tags` an array of
/// arrays of strings; `content` a string; no invalid UTF-8 and no lone surrogate
/// escapes anywhere. Unknown extra fields are ignored. Does NOT check id or sig.
/// On failure `error` (optional) gets a short reason that never quotes the input.
std::optional<event> parse_event(std::string_view json, std::string* error = nullptr);

/// `[0,<pubkey>,<created_at>,<kind>,<tags>,<content>]`, byte for byte what
/// JavaScript's JSON.stringify produces (escapes only `"`, `\` and U+0000–U+001F,
/// the latter as \b \t \n \f \r or \u00xx; everything else raw UTF-8).
/// Throws std::invalid_argument if a string is not valid UTF-8.
std::string serialize_for_id(const event& ev);

/// SHA-256 of serialize_for_id, raw and as lowercase hex.
std::array<uint8_t, 32> compute_id_bytes(const event& ev);
std::string compute_id(const event& ev);

/// `ev.id` is the hash of the event's content.
bool id_matches(const event& ev);
/// `ev.sig` is a valid BIP-340 signature by `ev.pubkey` of the 32 bytes of `ev.id`.
bool signature_valid(const event& ev);
/// Both of the above: the event is authentic.
bool verify_event(const event& ev);

/// Sets pubkey, id and sig (fresh random aux). Throws std::invalid_argument when
/// the event could not be parsed back (kind/created_at out of range, invalid UTF-8).
event sign_event(event unsigned_ev, const secret_key& key);

/// The event as a JSON object (NIP-01 field order, same string escaping as ids).
std::string to_json(const event& ev);

/// The value (element 1) of the FIRST tag named `name`, as nostr-tools reads
/// tags; nullopt when there is no such tag or it has no value.
std::optional<std::string_view> first_tag_value(const event& ev, std::string_view name);

/// Appends `s` as a JSON string literal with JSON.stringify's escaping.
/// Throws std::invalid_argument if `s` is not valid UTF-8.
void append_json_string(std::string& out, std::string_view s);

} // namespace relayhost::nostr
