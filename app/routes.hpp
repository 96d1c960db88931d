// The route table: which route template goes to which actor, with what auth.
// Route handlers run on io threads and only hand work to actors (app/bridge.hpp).
#pragma once

#include <memory>

#include <caf/fwd.hpp>

#include "actors/fwd.hpp"
#include "actors/view_board.hpp"
#include "actors/zooid_actor.hpp"
#include "app/config.hpp"
#include "http/router.hpp"

namespace relayhost {

/// What the routes need to reach the actors.
struct app_context {
  caf::actor_system* sys = nullptr;
  const config* cfg = nullptr;
  storage_actor storage;
  tenant_registry_actor registry;
  admin_actor admin;
  std::shared_ptr<const zooid_health> zooid_status;  // null: "unknown"
  std::shared_ptr<view_board> views;  // tenant views published by tenant actors; null: reads go to the actors
};

/// Builds the router for the public listener.
std::shared_ptr<http::router> make_router(const app_context& ctx);

} // namespace relayhost
