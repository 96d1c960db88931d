// The rules of api.md for relay bodies: subdomain syntax and reserved names,
// plan catalog, field lengths in code points, unknown fields rejected with their
// dot path. Pure: a body in, a validated draft or the API error out.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/errc.hpp"
#include "domain/model.hpp"
#include "domain/plans.hpp"

namespace relayhost {

struct relay_rules {
  plan_catalog plans;
  std::vector<std::string> reserved_extra;  // RESERVED_SUBDOMAINS
};

/// POST /tenant/relays.
struct relay_create {
  std::string subdomain;
  std::string name;
  std::string description;
  std::optional<std::string> icon;
  std::string plan;
  relay_policy policy;
};

/// PUT /tenant/relays/:id (and the tenant fields of the admin PUT): each member
/// set only when the body has the field.
struct relay_change {
  std::optional<std::string> subdomain;  // accepted only if equal to the current one
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::optional<std::string>> icon;  // set to nullopt: clear
  std::optional<std::string> plan;
  std::optional<bool> public_join;
  std::optional<bool> strip_signatures;
  std::optional<relay_status> status;
  std::optional<std::string> reason;  // admin only
};

/// Which statuses a body may set: the tenant's PUT allows active|inactive and
/// answers 403 for suspended|delinquent; the admin's PUT also allows suspended.
enum class status_authority { tenant, admin };

/// Code points in valid UTF-8; nullopt when the bytes are not valid UTF-8.
std::optional<size_t> utf8_length(std::string_view s);

/// nullopt when `subdomain` is acceptable, else the error (field "subdomain").
std::optional<api_error> check_subdomain(std::string_view subdomain, const relay_rules& rules);

std::variant<relay_create, api_error> parse_relay_create(std::string_view body, const relay_rules& rules);

std::variant<relay_change, api_error> parse_relay_change(std::string_view body, const relay_rules& rules,
                                                         status_authority who);

/// zooid's `schema` for a subdomain: every '-' becomes '_'.
std::string schema_for_subdomain(std::string_view subdomain);

} // namespace relayhost
