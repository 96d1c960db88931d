// The JSON views of api.md. Secrets (relay secret, NWC URL) are not in them,
// by construction: these functions are the only way a tenant or relay becomes JSON.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "domain/model.hpp"

namespace relayhost {

/// The relay object of api.md; host/url derive from RELAY_DOMAIN.
void relay_to_json(const relay& r, std::string_view relay_domain, nlohmann::json& out);

/// The same relay object appended to `out` as serialized JSON, byte for byte what
/// dumping relay_to_json gives (keys in its order, its escapes, U+FFFD for invalid
/// UTF-8), without building a document: GET routes render lists with it.
void append_relay_json(std::string& out, const relay& r, std::string_view relay_domain);

/// append_relay_json into a new string: the relay object as an answer's body.
std::string relay_json(const relay& r, std::string_view relay_domain);

/// The relay as admins see it: the relay object plus who suspended it and why.
void relay_to_admin_json(const relay& r, std::string_view relay_domain, nlohmann::json& out);

/// The tenant object of api.md (GET /tenant).
void tenant_to_json(const tenant& t, nlohmann::json& out);

/// The tenant as admins see it: plus the suspension's reason and time.
void tenant_to_admin_json(const tenant& t, nlohmann::json& out);

/// An audit row; before/after are embedded as JSON objects.
void audit_to_json(const audit_entry& a, nlohmann::json& out);

} // namespace relayhost
