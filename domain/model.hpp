// The hosting domain as plain data: a tenant and its relays, exactly what a
// tenant actor holds in memory and the storage layer persists.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relayhost {

enum class relay_status : uint8_t { active, inactive, suspended, delinquent };
enum class sync_state : uint8_t { pending, synced, failed };
enum class tenant_status : uint8_t { active, suspended };

std::string_view to_string(relay_status s) noexcept;
std::string_view to_string(sync_state s) noexcept;
std::string_view to_string(tenant_status s) noexcept;
std::optional<relay_status> parse_relay_status(std::string_view s) noexcept;
std::optional<sync_state> parse_sync_state(std::string_view s) noexcept;
std::optional<tenant_status> parse_tenant_status(std::string_view s) noexcept;

struct relay_policy {
  bool public_join = false;
  bool strip_signatures = false;
  bool operator==(const relay_policy& o) const {
    return public_join == o.public_join && strip_signatures == o.strip_signatures;
  }
};

struct relay_sync {
  sync_state state = sync_state::pending;
  std::optional<std::string> error;
  int64_t attempts = 0;
  std::optional<int64_t> last_attempt_at;
};

struct relay {
  std::string id;         // opaque, unguessable (128 random bits, hex)
  std::string tenant;     // owner's hex pubkey
  std::string subdomain;  // immutable
  std::string name;
  std::string description;
  std::optional<std::string> icon;
  std::string plan;
  relay_policy policy;
  relay_status status = relay_status::active;
  relay_sync sync;
  std::vector<uint8_t> secret_enc;  // the relay's Nostr secret, sealed (never leaves relayhost but to zooid)
  bool zooid_provisioned = false;   // zooid holds its config: changes go by PATCH
  // Who suspended a `suspended` relay: "tenant" (the tenant's suspension: lifting
  // it restores the relay) or "admin" (this relay alone); with the admin's reason.
  std::optional<std::string> suspended_by;
  std::optional<std::string> suspend_reason;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int64_t seq = 0;  // creation order across the platform (pagination)
};

struct tenant_billing {
  std::vector<uint8_t> nwc_url_enc;  // empty: no wallet connected
  std::optional<std::string> wallet_pubkey;
  std::optional<std::string> nwc_status;
  std::optional<int64_t> anchor;
  // The end of the earliest period not closed yet (billing clock); set with the anchor.
  std::optional<int64_t> next_close;
  int64_t balance_due_sats = 0;
  // An open invoice is past its grace period (its paid relays are delinquent).
  bool delinquent = false;
  bool connected() const { return !nwc_url_enc.empty(); }
};

struct tenant {
  std::string pubkey;  // hex
  tenant_status status = tenant_status::active;
  std::optional<std::string> suspend_reason;
  std::optional<int64_t> suspended_at;
  tenant_billing billing;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

/// One row of the append-only relay activity log (billing prorates from it).
struct relay_activity {
  std::string relay_id;
  int64_t at = 0;
  std::string plan;
  bool active = false;
  relay_status status = relay_status::active;
};

/// One row of the audit log: every admin write (api.md "Admin routes").
struct audit_entry {
  int64_t id = 0;
  int64_t at = 0;
  std::string admin;  // hex pubkey
  std::string action;       // e.g. "tenant.suspend", "relay.update"
  std::string target_type;  // "tenant" | "relay"
  std::string target_id;
  std::optional<std::string> reason;
  std::optional<std::string> before_json;  // the target before (never secrets)
  std::optional<std::string> after_json;
};

} // namespace relayhost
