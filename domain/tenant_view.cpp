#include "domain/tenant_view.hpp"

#include <nlohmann/json.hpp>

#include "domain/views.hpp"

namespace relayhost {

std::string render_tenant(const tenant& t) {
  nlohmann::json j;
  tenant_to_json(t, j);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string render_relay_page(const tenant_view& v, const page_request& p, std::string_view relay_domain) {
  std::string out;
  out.reserve(64 + 512 * std::min<size_t>(v.relays.size(), static_cast<size_t>(p.limit)));
  out += "{\"items\":[";
  int64_t count = 0;
  const relay* last = nullptr;
  std::optional<int64_t> next;
  for (auto& r : v.relays) {
    if (p.after && r->seq <= *p.after)
      continue;
    if (count == p.limit) {
      next = last->seq;
      break;
    }
    if (count++ > 0)
      out += ',';
    append_relay_json(out, *r, relay_domain);
    last = r.get();
  }
  out += "],\"next_cursor\":";
  if (next) {
    out += '"';
    out += encode_cursor(*next);  // a fixed prefix and base36 digits: nothing to escape
    out += '"';
  } else {
    out += "null";
  }
  out += '}';
  return out;
}

const relay* find_relay(const tenant_view& v, std::string_view id) {
  for (auto& r : v.relays)
    if (r->id == id)
      return r.get();
  return nullptr;
}

} // namespace relayhost
