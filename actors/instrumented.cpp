// The relayhost_actor_* families and the per-type lookup of their children.
#include "actors/instrumented.hpp"

namespace relayhost {

namespace {

// Actor types are a fixed, small set (one per file in actors/, plus test types).
constexpr std::size_t max_actor_types = 64;

} // namespace

std::vector<double> actor_handling_buckets() {
  return {1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3,
          5e-3, 1e-2, 2.5e-2, 5e-2, 0.1,    0.25,   0.5,  1,      2.5,  5};
}

actor_type_metrics actor_type_metrics::of(std::string_view type) {
  static auto& live = metrics::sharded_gauge_family(
      "relayhost_actor_live", "Actors alive (spawned, not yet terminated), by actor type.", {"type"},
      max_actor_types);
  static auto& depth = metrics::sharded_gauge_family(
      "relayhost_actor_mailbox_depth",
      "Messages in the mailboxes of all actors of a type: enqueued, not yet handled.", {"type"},
      max_actor_types);
  static auto& messages = metrics::counter_family(
      "relayhost_actor_messages_total",
      "Messages handled by actors of a type (matched by a handler or dropped as unexpected).",
      {"type"}, max_actor_types);
  static auto& handling = metrics::histogram_family(
      "relayhost_actor_handling_seconds",
      "Seconds an actor spent handling one message (in CAF's dispatch and the handler), by "
      "actor type.",
      {"type"}, actor_handling_buckets(), max_actor_types);
  return actor_type_metrics{live.with({type}), depth.with({type}), messages.with({type}),
                                 handling.with({type})};
}

} // namespace relayhost
