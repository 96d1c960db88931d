// NIP-47 Nostr Wallet Connect as data: the wallet's info event, requests, and
// the checks a response must pass before anyone acts on it. Pure: no I/O (the
// encryption draws random nonces / IVs).
//
// A response is trusted only when it is a kind-23195 event signed by the wallet
// (id and signature verified), its `e` tag is the request's id, its content
// decrypts with the conversation key of the client and the wallet, and its
// `result_type` is the request's method. Anything else is not an answer.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "nostr/event.hpp"

namespace relayhost::nostr {

class secret_key;

inline constexpr int kind_nwc_info = 13194;
inline constexpr int kind_nwc_request = 23194;
inline constexpr int kind_nwc_response = 23195;

enum class nwc_encryption : uint8_t { nip44_v2, nip04 };
const char* to_string(nwc_encryption e);

/// What a wallet's kind-13194 info event says.
struct nwc_info {
  std::set<std::string> methods;  // from the content, space- or comma-separated
  bool nip44_v2 = false;          // listed in the `encryption` tag
  bool nip04 = false;             // listed, or no `encryption` tag at all (NIP-04 only)
  /// nip44_v2 when the wallet offers it, else nip04 when it offers that; nullopt
  /// when it names only schemes relayhost does not speak.
  std::optional<nwc_encryption> chosen() const;
  bool has(std::string_view method) const { return methods.count(std::string(method)) > 0; }
};

/// Reads an info event: kind 13194, by `wallet_pubkey`, id and signature valid.
std::optional<nwc_info> parse_nwc_info(const event& ev, std::string_view wallet_pubkey, std::string* error = nullptr);

/// NIP-47's error codes; an unknown code is `other` (its text kept in the message).
enum class nwc_error_code : uint8_t {
  rate_limited,
  not_implemented,
  insufficient_balance,
  quota_exceeded,
  restricted,
  unauthorized,
  internal,
  unsupported_encryption,
  other,
  payment_failed,
  not_found,
};
nwc_error_code parse_nwc_error_code(std::string_view code);
const char* to_string(nwc_error_code c);  // "RATE_LIMITED", …

/// A signed kind-23194 request to `wallet_pubkey`: content = the encrypted
/// {"method", "params"}; tags `p`, `encryption` (only for nip44_v2: absent means
/// nip04), `expiration` when > 0. Throws std::invalid_argument on a bad wallet key
/// or params that are not a JSON object.
event make_nwc_request(const secret_key& client, std::string_view wallet_pubkey, std::string_view method,
                       std::string_view params_json, nwc_encryption enc, int64_t now, int64_t expiration);

struct nwc_response {
  std::string result_type;
  std::optional<nwc_error_code> error;  // set: the wallet answered with an error
  std::string error_message;
  std::string result_json = "{}";       // the `result` object ("{}" when null/absent)
};

/// Opens a candidate response to request `request_id` for `method` (see the top
/// of this file). The encryption is read off the payload ("?iv=" is NIP-04), since
/// wallets answer in the scheme of the request but some older ones always use
/// NIP-04. nullopt with `error` saying which check failed.
std::optional<nwc_response> open_nwc_response(const event& ev, const secret_key& client,
                                              std::string_view wallet_pubkey, std::string_view request_id,
                                              std::string_view method, std::string* error = nullptr);

/// lookup_invoice normalised (spec: settled = state "settled", or settled_at set,
/// or a preimage whose SHA-256 is the payment hash).
enum class invoice_status : uint8_t { pending, settled, expired, failed };
const char* to_string(invoice_status s);
struct invoice_lookup {
  invoice_status status = invoice_status::pending;
  int64_t settled_at = 0;  // 0: unknown
  std::string preimage;    // "" when none, or when it does not hash to the payment hash
};
/// `result_json` is lookup_invoice's result object; `payment_hash` 64 hex.
invoice_lookup normalize_lookup(std::string_view result_json, std::string_view payment_hash);

/// True when `preimage_hex` is 64 hex whose SHA-256 is `payment_hash_hex`.
bool preimage_matches(std::string_view preimage_hex, std::string_view payment_hash_hex);

} // namespace relayhost::nostr
