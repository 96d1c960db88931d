// What a tenant's reads show: an immutable snapshot of the tenant row and its
// relays, shared (not copied) with the tenant actor that owns them. The actor
// makes a new view after each committed change and publishes it; GET routes
// render their answer from it on the io thread without a message to any actor.
// A view is immutable, so any thread can read it while the actor builds the next.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "domain/model.hpp"
#include "domain/page.hpp"

namespace relayhost {

struct tenant_view {
  std::shared_ptr<const tenant> row;                // null: not created yet
  std::vector<std::shared_ptr<const relay>> relays;  // ascending seq
};

/// api.md's tenant object (GET /tenant), serialized.
std::string render_tenant(const tenant& t);

/// The GET /tenant/relays body: {"items":[…],"next_cursor":…}, byte for byte what
/// serializing the same page as one JSON document gives.
std::string render_relay_page(const tenant_view& v, const page_request& p, std::string_view relay_domain);

const relay* find_relay(const tenant_view& v, std::string_view id);

} // namespace relayhost
