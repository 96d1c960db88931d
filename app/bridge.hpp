// The bridge from an io thread to an actor request: `ask` spawns a short-lived
// requester actor that sends the request and hands the answer (or the error) to
// the responder, which posts it to the connection's strand. The io thread never
// waits (measured ≈ 11 µs per round trip; a blocking scoped_actor costs 55–72 µs
// and an io thread).
#pragma once

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "actors/errc_caf.hpp"
#include "http/api_types.hpp"

namespace relayhost {

/// Sends `msg…` to `dest` with `timeout`; `on_ok(Result&)` returns the api_response
/// to send; any error becomes the API error it stands for.
template <class Result, class Dest, class OnOk, class... Ts>
void ask(caf::actor_system& sys, const Dest& dest, caf::timespan timeout, http::responder respond,
         OnOk on_ok, Ts... msg) {
  sys.spawn([=](caf::event_based_actor* self) mutable {
    self->request(dest, timeout, std::move(msg)...)
      .then(
        [=](Result& result) mutable {
          respond(on_ok(result));
          self->quit();
        },
        [=](caf::error& err) mutable {
          respond(http::api_response::error(to_api_error(err)));
          self->quit();
        });
  });
}

} // namespace relayhost
