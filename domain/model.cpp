#include "domain/model.hpp"

namespace relayhost {

std::string_view to_string(relay_status s) noexcept {
  switch (s) {
    case relay_status::active: return "active";
    case relay_status::inactive: return "inactive";
    case relay_status::suspended: return "suspended";
    case relay_status::delinquent: return "delinquent";
  }
  return "inactive";
}

std::string_view to_string(sync_state s) noexcept {
  switch (s) {
    case sync_state::pending: return "pending";
    case sync_state::synced: return "synced";
    case sync_state::failed: return "failed";
  }
  return "pending";
}

std::string_view to_string(tenant_status s) noexcept {
  return s == tenant_status::active ? "active" : "suspended";
}

std::optional<relay_status> parse_relay_status(std::string_view s) noexcept {
  if (s == "active") return relay_status::active;
  if (s == "inactive") return relay_status::inactive;
  if (s == "suspended") return relay_status::suspended;
  if (s == "delinquent") return relay_status::delinquent;
  return std::nullopt;
}

std::optional<sync_state> parse_sync_state(std::string_view s) noexcept {
  if (s == "pending") return sync_state::pending;
  if (s == "synced") return sync_state::synced;
  if (s == "failed") return sync_state::failed;
  return std::nullopt;
}

std::optional<tenant_status> parse_tenant_status(std::string_view s) noexcept {
  if (s == "active") return tenant_status::active;
  if (s == "suspended") return tenant_status::suspended;
  return std::nullopt;
}

} // namespace relayhost
