#include "core/errc.hpp"

#include <nlohmann/json.hpp>

namespace relayhost {

std::string_view api_code(errc e) noexcept {
  switch (e) {
    case errc::none: return "ok";
    case errc::unauthorized: return "unauthorized";
    case errc::forbidden: return "forbidden";
    case errc::not_found: return "not-found";
    case errc::method_not_allowed: return "method-not-allowed";
    case errc::invalid_json: return "invalid-json";
    case errc::invalid_field: return "invalid-field";
    case errc::payload_too_large: return "payload-too-large";
    case errc::headers_too_large: return "headers-too-large";
    case errc::conflict: return "conflict";
    case errc::tenant_suspended: return "tenant-suspended";
    case errc::unavailable: return "unavailable";
    case errc::internal: return "internal";
  }
  return "internal";
}

int http_status(errc e) noexcept {
  switch (e) {
    case errc::none: return 200;
    case errc::unauthorized: return 401;
    case errc::forbidden: return 403;
    case errc::not_found: return 404;
    case errc::method_not_allowed: return 405;
    case errc::invalid_json: return 400;
    case errc::invalid_field: return 400;
    case errc::payload_too_large: return 413;
    case errc::headers_too_large: return 431;
    case errc::conflict: return 409;
    case errc::tenant_suspended: return 403;
    case errc::unavailable: return 503;
    case errc::internal: return 500;
  }
  return 500;
}

std::string error_body(const api_error& e) {
  nlohmann::json j{{"error", e.message.empty() ? std::string(api_code(e.code)) : e.message},
                   {"code", std::string(api_code(e.code))}};
  if (!e.field.empty())
    j["field"] = e.field;
  return j.dump();
}

} // namespace relayhost
