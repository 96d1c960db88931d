// The zooid client actor's transport over the real HTTP client: connects to
// ZOOID_API_URL's host and port, sends Host exactly as written there.
#pragma once

#include <chrono>
#include <memory>

#include "actors/zooid_actor.hpp"
#include "app/config.hpp"
#include "http/client.hpp"

namespace relayhost {

zooid_transport make_zooid_transport(std::shared_ptr<http::client> client, const http_url& api,
                                     std::chrono::seconds timeout);

} // namespace relayhost
