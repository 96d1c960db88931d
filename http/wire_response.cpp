#include "http/wire_response.hpp"

#include <boost/beast/http/field.hpp>

#include "core/log.hpp"

namespace relayhost::http {

namespace bhttp = boost::beast::http;

namespace {

bool is_json(std::string_view content_type) {
  return content_type.substr(0, 16) == "application/json";
}

// Statuses that never carry a body or Content-Length (RFC 9110 §6.4.1, §8.6).
bool bodiless(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

} // namespace

int build_wire_response(wire_response& out, api_response&& in, const wire_context& c) {
  if (in.status < 200 || in.status > 599) {
    log::error("route handler answered an invalid status", {{"status", std::to_string(in.status)},
                                                            {"id", std::string(c.request_id)}});
    in = api_response::error(errc::internal, "internal error");
  }
  out = wire_response{};
  out.version(c.version);
  out.result(static_cast<unsigned>(in.status));
  out.set(bhttp::field::server, "relayhost");
  out.set("X-Request-Id", c.request_id);
  if (!in.content_type.empty()) {
    out.set(bhttp::field::content_type, in.content_type);
    if (is_json(in.content_type))
      out.set(bhttp::field::cache_control, "no-store");
  }
  for (auto& [name, value] : in.headers)
    out.insert(name, value);
  out.keep_alive(c.keep_alive);
  if (!bodiless(in.status)) {
    out.content_length(in.body.size());
    if (!c.head)
      out.body() = std::move(in.body);
  }
  return in.status;
}

} // namespace relayhost::http
