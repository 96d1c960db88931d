// Registers relayhost::errc with CAF so handlers can return caf::error built from
// it, and converts a caf::error back into the API error it stands for.
#pragma once

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include "core/errc.hpp"

CAF_ERROR_CODE_ENUM(relayhost::errc, "relayhost")

namespace relayhost {

/// A caf::error carrying a project code and a human message (never internals).
caf::error make_api_error(errc code, std::string message);

/// Same, with the invalid field's dot path.
caf::error make_field_error(std::string field, std::string message);

/// The API error a caf::error stands for: project errors keep code, message and
/// field; CAF's own (request timeout, receiver down) become 503 `unavailable`.
api_error to_api_error(const caf::error& err);

} // namespace relayhost
