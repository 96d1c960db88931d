// What a tenant's reads show, rendered once per change instead of once per read.
// The tenant actor builds a new tenant_view after each committed change (reusing
// the rendered relays that did not change) and publishes it; GET routes answer
// from it on the io thread without a message to any actor. A view is immutable:
// it can be read from any thread while the actor builds the next one.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/model.hpp"
#include "domain/page.hpp"

namespace relayhost {

/// One relay as GET /tenant/relays/:id shows it (api.md's relay object).
struct rendered_relay {
  std::string id;
  int64_t seq = 0;   // creation order, the cursor's position
  std::string json;  // the relay object, serialized
};

struct tenant_view {
  std::shared_ptr<const std::string> tenant_json;  // GET /tenant; null: not created yet
  std::vector<std::shared_ptr<const rendered_relay>> relays;  // ascending seq
};

std::shared_ptr<const rendered_relay> render_relay(const relay& r, std::string_view relay_domain);
std::shared_ptr<const std::string> render_tenant(const tenant& t);

/// A view of `t` (nullopt: not created) and `relays` (ascending seq), all rendered.
std::shared_ptr<const tenant_view> make_tenant_view(const std::optional<tenant>& t, const std::vector<relay>& relays,
                                                    std::string_view relay_domain);

/// `base` with the tenant and/or one relay re-rendered (a relay not in `base` is
/// appended: relays are created in ascending seq); everything else is shared.
std::shared_ptr<const tenant_view> with_tenant(const tenant_view& base, const tenant& t);
std::shared_ptr<const tenant_view> with_relay(const tenant_view& base, const relay& r, std::string_view relay_domain);

/// The GET /tenant/relays body: {"items":[…],"next_cursor":…}, byte for byte what
/// serializing the same page as one JSON document gives.
std::string render_relay_page(const tenant_view& v, const page_request& p);

const rendered_relay* find_rendered_relay(const tenant_view& v, std::string_view id);

} // namespace relayhost
