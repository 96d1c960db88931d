// Per-actor-type metrics for every relayhost actor: live count, mailbox depth,
// messages handled and handling time. CAF 0.17.6 as Debian builds it has no actor
// profiler (CAF_ENABLE_ACTOR_PROFILER is off), so relayhost measures at the two
// virtual hooks every scheduled actor has: enqueue (a message arrives) and consume
// (the actor handles one).
//
// An actor type opts in at its definition with one line: its self pointer is
//   instrumented_pointer<X_actor, X_state>   instead of   X_actor::stateful_pointer<X_state>
// Function-based spawn infers the implementation class from that parameter, so
// `sys.spawn(f, …)`, `sys.spawn<caf::detached>(f, …)` and `self->spawn(f, …)` all
// construct an instrumented_actor. The `type` label is X_state::name.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/invoke_message_result.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/message_id.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "core/metrics.hpp"

namespace relayhost {

/// The metrics of one actor type (one child of each relayhost_actor_* family).
struct actor_type_metrics {
  metrics::sharded_gauge& live;           // relayhost_actor_live
  metrics::sharded_gauge& mailbox_depth;  // relayhost_actor_mailbox_depth
  metrics::counter& messages;             // relayhost_actor_messages_total
  metrics::histogram& handling_seconds;   // relayhost_actor_handling_seconds

  /// The metrics of `type` in the global registry, created on first use. The
  /// references stay valid for the life of the process: look them up once per type.
  static actor_type_metrics of(std::string_view type);
};

/// Upper bounds (seconds) of relayhost_actor_handling_seconds: 1 µs (a read served
/// from memory) to 5 s (a stuck disk), 1-2.5-5 per decade.
std::vector<double> actor_handling_buckets();

/// A stateful actor of interface `Handle` and state `State` that reports its type's
/// metrics. Costs each actor 16 bytes (the pending count and a flag).
template <class Handle, class State>
class instrumented_actor : public caf::stateful_actor<State, typename Handle::base> {
public:
  using super = caf::stateful_actor<State, typename Handle::base>;

  template <class... Ts>
  explicit instrumented_actor(caf::actor_config& cfg, Ts&&... xs) : super(cfg, std::forward<Ts>(xs)...) {
    type_metrics().live.inc();
  }

  ~instrumented_actor() override {
    // Normally cleanup() did this. Nobody holds a strong reference any more, so no
    // enqueue can run concurrently.
    stop_living();
    give_back();
  }

  using super::enqueue;

  void enqueue(caf::mailbox_element_ptr ptr, caf::execution_unit* eu) override {
    // Stream batches bypass consume() (CAF handles them in the mailbox visitor);
    // relayhost uses no streams, and they are left out rather than counted forever.
    if (ptr->mid.is_stream_message()) {
      super::enqueue(std::move(ptr), eu);
      return;
    }
    // Counted before the push: once pushed, a worker may consume the message before
    // this call returns.
    pending_.fetch_add(1, std::memory_order_relaxed);
    type_metrics().mailbox_depth.inc();
    super::enqueue(std::move(ptr), eu);
    // A closed mailbox dropped (bounced) the message: give back what is pending.
    // Exchanging the whole count (not −1) keeps each step given back exactly once
    // whoever gets there first; see give_back().
    if (this->mailbox().closed())
      give_back();
  }

  using super::consume;

  caf::invoke_message_result consume(caf::mailbox_element& x) override {
    const auto start = std::chrono::steady_clock::now();
    caf::invoke_message_result result;
    try {
      result = super::consume(x);
    } catch (...) {
      // The message is gone (the exception ends the actor); it was handled.
      handled(start);
      throw;
    }
    // A skipped message (e.g. while the actor awaits a response) stays queued and
    // comes back here later: it is still in the mailbox depth.
    if (result != caf::invoke_message_result::skipped)
      handled(start);
    return result;
  }

  bool cleanup(caf::error&& fail_state, caf::execution_unit* host) override {
    // Not live from here: before super::cleanup unregisters the actor, so whoever
    // waits for the actor system to be empty also sees the live count at 0.
    stop_living();
    // After super::cleanup the mailbox is closed and what was queued is dropped.
    auto result = super::cleanup(std::move(fail_state), host);
    give_back();
    return result;
  }

private:
  static const actor_type_metrics& type_metrics() {
    static const actor_type_metrics m = actor_type_metrics::of(State::name);
    return m;
  }

  void handled(std::chrono::steady_clock::time_point start) noexcept {
    const auto took = std::chrono::steady_clock::now() - start;
    auto& m = type_metrics();
    pending_.fetch_sub(1, std::memory_order_relaxed);
    m.mailbox_depth.dec();
    m.messages.inc();
    m.handling_seconds.observe(std::chrono::duration<double>(took).count());
  }

  // The gauge holds this actor's pending_ at all times: every change to pending_ is
  // mirrored in the gauge, and the exchange gives back exactly what it took. So the
  // gauge is left exact if pending_ ends at 0, which it does: the last operation on
  // pending_ is always an exchange, because every increment is followed by one (by
  // the enqueue itself when the mailbox was closed; otherwise the push preceded the
  // close, which precedes cleanup's exchange), and every decrement (consume) runs on
  // the actor before cleanup. Remaining race, transient only: the gauge is updated
  // just after pending_, so a scrape can see it ahead or behind by the enqueues in
  // flight (even below 0 for an instant when one enqueue gives back another's
  // increment before that one reached the gauge).
  void give_back() noexcept {
    if (const auto n = pending_.exchange(0, std::memory_order_acq_rel); n != 0)
      type_metrics().mailbox_depth.dec(n);
  }

  void stop_living() noexcept {
    if (!ended_) {
      ended_ = true;
      type_metrics().live.dec();
    }
  }

  std::atomic<int64_t> pending_{0};  // enqueued, not yet handled or given back
  bool ended_ = false;               // live count given back (actor thread, then destructor)
};

/// The self pointer of an instrumented actor, for `X(X_pointer self, …)` functions.
template <class Handle, class State>
using instrumented_pointer = instrumented_actor<Handle, State>*;

} // namespace relayhost
