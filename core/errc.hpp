// The project's error codes. Each maps 1:1 to an API error code of api.md, so the
// HTTP layer translates errors without string matching. Pure: no CAF here
// (core/errc_caf.hpp registers the enum with CAF).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace relayhost {

enum class errc : uint8_t {
  none = 0,
  unauthorized,        // 401
  forbidden,           // 403
  not_found,           // 404
  method_not_allowed,  // 405
  invalid_json,        // 400
  invalid_field,       // 400 (+ "field")
  payload_too_large,   // 413
  headers_too_large,   // 431
  conflict,            // 409
  tenant_suspended,    // 403
  unavailable,         // 503
  internal,            // 500
};

/// The machine code of api.md ("not-found", "invalid-field", ...).
std::string_view api_code(errc e) noexcept;

/// The HTTP status that goes with the code.
int http_status(errc e) noexcept;

/// An error as the API reports it: code, human message and, for invalid-field,
/// the offending field's dot path.
struct api_error {
  errc code = errc::internal;
  std::string message;
  std::string field;

  static api_error invalid_field(std::string field, std::string message) {
    return {errc::invalid_field, std::move(message), std::move(field)};
  }
};

/// `{"error": …, "code": …[, "field": …]}`.
std::string error_body(const api_error& e);

} // namespace relayhost
