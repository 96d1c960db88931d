// The billing scheduler (billing.md "Scheduler", issue 14). Every
// BILLING_TICK_SECONDS, and at once when the test clock moves, it runs a pass: it
// reads the due list from the database in pages (tenants whose next period close
// has come on the billing clock, and tenants with an open invoice that needs a
// bolt11), and asks each of those tenants' actors to bill (tenant_op::bill), at most
// `concurrency` at a time, so 100,000 due tenants neither load every tenant actor
// at once nor flood the platform wallet (whose client bounds its own requests in
// flight too). It holds no billing state of its own: what has been billed is in
// the database, so after a restart the first pass continues exactly where the
// last one stopped. A tenant whose wallet request failed is asked again after a
// backoff (doubling from one tick up to an hour), not on every pass.
//
// Passes run only while billing is enabled (the platform wallet answered with the
// methods billing needs); periods that closed meanwhile are billed when it is.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "actors/fwd.hpp"
#include "actors/instrumented.hpp"
#include "actors/platform_wallet.hpp"
#include "actors/tenant_actor.hpp"

namespace relayhost {

struct billing_scheduler_env {
  storage_actor storage;
  tenant_registry_actor registry;
  std::shared_ptr<const platform_wallet_state> wallet;  // passes run while enabled
  std::function<int64_t()> now;       // billing clock
  std::function<int64_t()> real_now;  // real clock (backoff)
  caf::timespan tick = std::chrono::seconds{60};
  caf::timespan storage_timeout = std::chrono::seconds{30};
  size_t concurrency = 32;     // tenants billing at once
  int64_t page_size = 512;     // due-list rows per read
  int64_t backoff_max_seconds = 3600;
  std::shared_ptr<billing_counters> counters;  // null: not counted
};

struct billing_scheduler_state {
  static inline const char* name = "billing_scheduler";
  std::shared_ptr<const billing_scheduler_env> env;
  bool running = false;      // a pass is under way
  bool again = false;        // the clock moved during the pass: run another at its end
  bool reading = false;      // a due-list page is being read
  bool exhausted = false;    // the last page was short: nothing more this pass
  std::string cursor;        // the last pubkey read this pass
  std::deque<std::string> queue;
  std::set<std::string> in_flight;
  std::chrono::steady_clock::time_point pass_started;
  int64_t pass_now = 0;      // the billing clock at the pass's start
  int64_t pass_invoices = 0;
  struct backoff {
    int failures = 0;
    int64_t until = 0;  // real clock
  };
  std::map<std::string, backoff> held;  // tenants whose wallet request failed
  uint64_t passes = 0, billed = 0;
};

billing_scheduler_actor::behavior_type billing_scheduler_impl(
  instrumented_pointer<billing_scheduler_actor, billing_scheduler_state> self,
  std::shared_ptr<const billing_scheduler_env> env);

} // namespace relayhost
