// The OpenAPI 3.1 description of the public API (api.md), served at
// GET /openapi.json without authentication. It is generated in code, so the
// document served is the one tests/unit/app_openapi.cpp compares with the router:
// every routed (method, template) must be documented and every documented one
// routed. NIP-98 is declared as an HTTP authentication scheme named "Nostr".
#pragma once

#include <string>
#include <string_view>

#include "http/router.hpp"

namespace relayhost {

/// The document, as compact JSON. `public_url` (PUBLIC_URL, no trailing slash)
/// becomes the server URL; empty: "/" (the host the document was fetched from).
std::string openapi_document(std::string_view public_url = {});

/// A router template in OpenAPI's path syntax: "/tenant/relays/:id" → "/tenant/relays/{id}".
std::string openapi_path(std::string_view router_template);

/// Adds GET /openapi.json (no auth) serving openapi_document(public_url), built once.
void add_openapi_route(http::router& r, std::string_view public_url = {});

} // namespace relayhost
