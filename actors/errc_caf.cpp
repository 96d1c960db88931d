#include "actors/errc_caf.hpp"

#include <caf/sec.hpp>

namespace relayhost {

caf::error make_api_error(errc code, std::string message) {
  return caf::make_error(code, std::move(message), std::string{});
}

caf::error make_field_error(std::string field, std::string message) {
  return caf::make_error(errc::invalid_field, std::move(message), std::move(field));
}

api_error to_api_error(const caf::error& err) {
  if (err.category() == caf::atom("relayhost")) {
    api_error out{static_cast<errc>(err.code()), {}, {}};
    const auto& ctx = err.context();
    if (ctx.match_elements<std::string, std::string>()) {
      out.message = ctx.get_as<std::string>(0);
      out.field = ctx.get_as<std::string>(1);
    }
    return out;
  }
  if (err == caf::sec::request_timeout)
    return {errc::unavailable, "the service did not answer in time", {}};
  return {errc::unavailable, "the service is not available", {}};
}

} // namespace relayhost
