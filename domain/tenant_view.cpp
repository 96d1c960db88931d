#include "domain/tenant_view.hpp"

#include <nlohmann/json.hpp>

#include "domain/views.hpp"

namespace relayhost {

namespace {

using json = nlohmann::json;

// As every API answer: invalid UTF-8 (which validation keeps out) would be
// replaced rather than throw mid-response.
std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

std::shared_ptr<const rendered_relay> render_relay(const relay& r, std::string_view relay_domain) {
  json j;
  relay_to_json(r, relay_domain, j);
  auto out = std::make_shared<rendered_relay>();
  out->id = r.id;
  out->seq = r.seq;
  out->json = dump(j);
  return out;
}

std::shared_ptr<const std::string> render_tenant(const tenant& t) {
  json j;
  tenant_to_json(t, j);
  return std::make_shared<const std::string>(dump(j));
}

std::shared_ptr<const tenant_view> make_tenant_view(const std::optional<tenant>& t, const std::vector<relay>& relays,
                                                    std::string_view relay_domain) {
  auto v = std::make_shared<tenant_view>();
  if (t)
    v->tenant_json = render_tenant(*t);
  v->relays.reserve(relays.size());
  for (auto& r : relays)
    v->relays.push_back(render_relay(r, relay_domain));
  return v;
}

std::shared_ptr<const tenant_view> with_tenant(const tenant_view& base, const tenant& t) {
  auto v = std::make_shared<tenant_view>(base);
  v->tenant_json = render_tenant(t);
  return v;
}

std::shared_ptr<const tenant_view> with_relay(const tenant_view& base, const relay& r, std::string_view relay_domain) {
  auto v = std::make_shared<tenant_view>(base);
  auto rendered = render_relay(r, relay_domain);
  for (auto& slot : v->relays)
    if (slot->id == r.id) {
      slot = std::move(rendered);
      return v;
    }
  v->relays.push_back(std::move(rendered));
  return v;
}

std::string render_relay_page(const tenant_view& v, const page_request& p) {
  std::string out = "{\"items\":[";
  int64_t count = 0;
  const rendered_relay* last = nullptr;
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
    out += r->json;
    last = r.get();
  }
  out += "],\"next_cursor\":";
  if (next) {
    out += '"';
    out += encode_cursor(*next);  // base36 after a fixed prefix: nothing to escape
    out += '"';
  } else {
    out += "null";
  }
  out += '}';
  return out;
}

const rendered_relay* find_rendered_relay(const tenant_view& v, std::string_view id) {
  for (auto& r : v.relays)
    if (r->id == id)
      return r.get();
  return nullptr;
}

} // namespace relayhost
