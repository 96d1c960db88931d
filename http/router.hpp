// The route table of the public API: which (method, path template) runs which
// handler, and whether NIP-98 guards it. Pure (no Beast, no I/O), so the server,
// app/ (which registers the routes) and the OpenAPI consistency test share it.
//
// Matching rules (also in docs/api.md):
// - Templates are absolute paths of segments; `:name` is a parameter segment that
//   matches any non-empty segment. Templates are split once, at add().
// - A path is matched as received (before '?', no dot-segment or slash folding):
//   literal segments compare byte for byte, so `/tenant/` (an empty trailing
//   segment) and `//tenant` are 404, and `%xx` in a literal segment is not decoded.
// - Parameters are percent-decoded ('+' stays '+'). A malformed escape in a
//   parameter of a route that otherwise matches is 400 `invalid-field` naming the
//   parameter (the route exists, the client sent a bad value), not 404.
// - When several templates match a path, the one with a literal segment at the
//   first position where they differ wins (`/x/export` beats `/x/:id`), among
//   those that have the request's method.
// - HEAD is served by the GET route unless a HEAD route exists (the server drops the body).
// - A path that matches some template but not with this method is 405
//   `method-not-allowed` with `Allow` listing every method of those templates.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/errc.hpp"
#include "http/api_types.hpp"

namespace relayhost::http {

enum class auth_mode { none, nip98 };

/// One registered route, as listed by router::routes().
struct route_info {
  std::string method;
  std::string templ;
  auth_mode auth = auth_mode::none;
};

class router {
public:
  struct route {
    std::string method;
    std::string templ;
    auth_mode auth = auth_mode::none;
    route_handler handler;
  };

  struct match_result {
    /// The route to run; null when `error` is set.
    const route* matched = nullptr;
    /// Path parameters, decoded, in template order.
    std::vector<std::pair<std::string, std::string>> params;
    /// The template the path matched (also for 405 and a bad parameter), for logs
    /// and metrics; empty when no template matched (404).
    std::string_view templ;
    /// not-found, method-not-allowed or invalid-field when nothing runs.
    std::optional<api_error> error;
    /// For 405: the `Allow` header value, e.g. "GET, HEAD, PUT, DELETE".
    std::string allow;
  };

  router();
  ~router();
  router(router&&) noexcept;
  router& operator=(router&&) noexcept;
  router(const router&) = delete;
  router& operator=(const router&) = delete;

  /// Registers a route. Throws std::invalid_argument for a malformed template
  /// (not starting with '/', an empty segment, a bad or repeated parameter name)
  /// or a (method, template) already registered (parameter names don't count:
  /// `/a/:id` and `/a/:x` are the same template).
  void add(std::string method, std::string templ, auth_mode auth, route_handler handler);

  /// Matches a request. `path` is the target before '?', exactly as received.
  match_result match(std::string_view method, std::string_view path) const;

  /// Every route, in registration order (implicit HEAD routes are not listed).
  std::vector<route_info> routes() const;

private:
  struct table;
  std::unique_ptr<table> table_;
};

} // namespace relayhost::http
