// What zooid should hold for a relay (zooid.md "Relay config"), and the pure
// rules of pushing it: the desired config, its fingerprint (so a sync outcome is
// applied only to the state it pushed), the retry backoff, and how an answer of
// zooid's management API is classified.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "domain/model.hpp"
#include "domain/plans.hpp"
#include "domain/relay_rules.hpp"

namespace relayhost {

struct zooid_context {
  std::string relay_domain;
  std::vector<std::string> admin_pubkeys;  // HOSTING_ADMIN_PUBKEYS, hex
  plan_catalog plans;
};

/// The relay's desired config without its secret: the body of a PATCH, and of
/// a POST once the secret is added. `roles.member` is left out so that a PATCH
/// never replaces members zooid manages itself (arrays replace on merge).
nlohmann::json zooid_desired_config(const relay& r, const zooid_context& ctx);

/// The POST body: the desired config plus `secret`, and an empty member role.
nlohmann::json zooid_create_body(const relay& r, const zooid_context& ctx, const std::string& secret_hex);

/// zooid_desired_config(r, ctx).dump() and zooid_create_body(…).dump(), byte for
/// byte, written directly (no JSON tree: several times faster, and every relay
/// creation computes them three times). Throw like dump() on invalid UTF-8.
std::string zooid_desired_config_json(const relay& r, const zooid_context& ctx);
std::string zooid_create_body_json(const relay& r, const zooid_context& ctx, const std::string& secret_hex);

/// SHA-256 (hex) of the desired config's canonical dump.
std::string zooid_fingerprint(const relay& r, const zooid_context& ctx);

/// Delay before retry number `attempt` (1-based: the retry after the first
/// failure is attempt 1): base × 2^(attempt-1), capped at `max`.
std::chrono::seconds zooid_backoff(int64_t attempt, std::chrono::seconds base, std::chrono::seconds max);

/// What a zooid answer means for the sync (zooid.md "Retry policy").
enum class zooid_outcome : uint8_t {
  ok,               // 2xx
  already_exists,   // POST 409 "relay with this id already exists": PATCH the same state
  not_found,        // PATCH 404 "relay not found": POST it
  transient,        // transport error, timeout, 5xx: retry with backoff
  rejected,         // any other 4xx (validation, schema/host in use, auth): fail, no blind retry
};

/// `status` 0 means a transport error (no HTTP answer).
zooid_outcome classify_zooid_answer(std::string_view method, int status, std::string_view body);

/// A short, safe description of an answer for sync.error: zooid's own error
/// text can contain the relay secret (it echoes an invalid one), so only known
/// messages are quoted; anything else is summarized by status.
std::string zooid_error_text(int status, std::string_view body, std::string_view transport_error);

} // namespace relayhost
