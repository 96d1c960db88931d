// The OpenAPI 3.1 description of the public API (api.md), served at
// GET /openapi.json without authentication. It is generated in code from a
// catalog of every operation api.md describes, filtered to the routes the router
// actually serves: a route that is not served yet is never listed.
// tests/unit/app_openapi.cpp compares the served document with the router both
// ways (every routed operation documented, every documented one routed).
// NIP-98 is declared as an HTTP authentication scheme named "Nostr".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/router.hpp"

namespace relayhost {

/// The document of the routes in `served`, as compact JSON: an operation of the
/// catalog appears only when its (method, template) is served; a served route
/// the catalog lacks is simply absent (the test reports it). `public_url`
/// (PUBLIC_URL, no trailing slash) becomes the server URL; empty: "/" (the host
/// the document was fetched from).
std::string openapi_document(const std::vector<http::route_info>& served, std::string_view public_url = {});

/// The whole catalog, served or not (tests: what is documented for later).
std::string openapi_catalog(std::string_view public_url = {});

/// A router template in OpenAPI's path syntax: "/tenant/relays/:id" → "/tenant/relays/{id}".
std::string openapi_path(std::string_view router_template);

/// Adds GET /openapi.json (no auth) serving openapi_document(r.routes(), public_url),
/// built once, from the routes registered so far: call it after every other route.
void add_openapi_route(http::router& r, std::string_view public_url = {});

} // namespace relayhost
