// NIP-98 HTTP authentication: the verifier the HTTP front-end runs on its io
// threads (every check of api.md "Authentication"; see nip98.cpp for the order),
// and the signer relayhost uses for its own calls to zooid. Pure: no I/O, no actors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace relayhost::nostr {

inline constexpr int nip98_kind = 27235;
/// Largest decoded token accepted (request headers are limited to 16 KiB anyway).
inline constexpr size_t nip98_max_token_bytes = 16 * 1024;

struct nip98_check {
  std::string_view authorization;  // the Authorization header value ("" if absent)
  std::string_view method;         // request method as received
  std::string_view url;            // PUBLIC_URL + path + query exactly as received
  std::string_view body;           // raw request body
};

struct nip98_outcome {
  bool ok = false;
  std::string pubkey;  // hex, when ok
  std::string error;   // names the failed check, when !ok (safe to return to the client)
};

/// Thread-safe. Holds the bounded replay memory of write requests' event ids
/// (every method except exactly "GET" and "HEAD"; HTTP methods are case-sensitive).
class nip98_verifier {
public:
  /// max_skew_seconds: the ±window for created_at (NIP98_MAX_SKEW_SECONDS), >= 0;
  /// replay_capacity: at most this many remembered ids (>= 1). An id is forgotten
  /// once its event can no longer pass the created_at check; while the memory is
  /// full of live ids, new writes are refused ("replay cache full; retry") rather
  /// than forgetting a live id, which would allow its replay. Throws
  /// std::invalid_argument on out-of-range arguments.
  explicit nip98_verifier(int64_t max_skew_seconds, size_t replay_capacity = 1 << 20);
  ~nip98_verifier();
  nip98_verifier(const nip98_verifier&) = delete;
  nip98_verifier& operator=(const nip98_verifier&) = delete;

  /// Runs every check; `now` is unix seconds (the real clock, never the billing clock).
  nip98_outcome verify(const nip98_check& req, int64_t now) const;

  /// How many write-request ids are remembered right now (for metrics and tests).
  size_t remembered_ids() const;

private:
  struct impl;
  impl* impl_;
};

class secret_key;
class signer;

/// Builds `Nostr <base64 padded>` for a request: kind 27235 with `u`, `method`,
/// and `payload` (SHA-256 of body; always sent, zooid ignores it). Throws
/// std::invalid_argument if url or method is not valid UTF-8.
std::string nip98_authorization(const signer& key, std::string_view url,
                                std::string_view method, std::string_view body,
                                int64_t created_at);
/// The same with a one-off signer (derives the keypair on every call: for a key
/// that signs often, keep a nostr::signer).
std::string nip98_authorization(const secret_key& key, std::string_view url,
                                std::string_view method, std::string_view body,
                                int64_t created_at);

} // namespace relayhost::nostr
