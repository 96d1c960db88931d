// Turns an api_response into the bytes-on-the-wire response with the headers every
// response carries (Server, X-Request-Id, Content-Type, Cache-Control on JSON,
// Connection). Internal to http/: includes Beast.
#pragma once

#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http/api_types.hpp"

namespace relayhost::http {

using wire_response = boost::beast::http::response<boost::beast::http::string_body>;

struct wire_context {
  unsigned version = 11;       // the request's HTTP version (10 or 11)
  bool keep_alive = true;      // false: `Connection: close`, then the server closes
  bool head = false;           // HEAD: Content-Length of the GET body, no body
  std::string_view request_id;
};

/// Fills `out` (reset first) from `in`; returns the status actually sent (an
/// out-of-range status from a handler becomes 500 `internal`).
int build_wire_response(wire_response& out, api_response&& in, const wire_context& c);

} // namespace relayhost::http
