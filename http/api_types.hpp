// The boundary between the HTTP front-end (Beast, io threads) and the rest of
// relayhost (actors). Neither Beast nor CAF appears here, so both sides include it
// cheaply. An io thread builds an api_request, hands it to a route handler with a
// responder, and goes back to serving; whoever answers (an actor, later, on its own
// thread) calls the responder, which posts the response to the connection's strand.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/errc.hpp"

namespace relayhost::http {

struct api_request {
  std::string method;       // as received, e.g. "GET"
  std::string target;       // path + query exactly as received
  std::string path;         // target before '?'
  std::string query;        // target after '?' (without it); empty if none
  std::string route;        // the matched route template, e.g. "/tenant/relays/:id"
  std::vector<std::pair<std::string, std::string>> params;  // path parameters, decoded
  std::string body;         // raw body bytes
  std::string request_id;   // per-request id (also in the log line and X-Request-Id)
  std::string pubkey;       // hex pubkey proven by NIP-98; empty on unauthenticated routes

  /// A path parameter by name ("" when absent).
  const std::string& param(std::string_view name) const;

  /// A query parameter by name, percent-decoded; nullopt when absent.
  std::optional<std::string> query_param(std::string_view name) const;
};

struct api_response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers

  static api_response json(int status, std::string body);
  static api_response error(const api_error& e);
  static api_response error(errc code, std::string message);
};

/// A one-shot, thread-safe reply channel for one request. Copies share one state;
/// the first call wins, later calls are ignored. If every copy is destroyed without
/// an answer (an actor died with the message in its mailbox), the request is
/// answered 503 `unavailable`, so a connection never hangs on a lost message.
class responder {
public:
  using sink = std::function<void(api_response&&)>;

  responder() = default;
  explicit responder(sink s);

  void operator()(api_response r) const;

  /// Whether an answer was already given.
  bool answered() const noexcept;

private:
  struct state;
  std::shared_ptr<state> state_;
};

/// What a route runs: called on an io thread; must not block. Answers through the
/// responder, now or later from any thread.
using route_handler = std::function<void(api_request&&, responder)>;

/// Percent-decodes a URL component ('+' is kept, as in paths); nullopt on bad escapes.
std::optional<std::string> percent_decode(std::string_view in);

} // namespace relayhost::http
