// One actor per tenant: the only writer of that tenant's state (tenant row,
// relays, billing). Validates every change with domain/ rules, persists it through
// the storage actor BEFORE replying (and before changing its memory), and serves
// reads from memory. It loads its state when it starts and stops when idle.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/timespan.hpp>

#include "actors/billing_counters.hpp"
#include "actors/fwd.hpp"
#include "actors/instrumented.hpp"
#include "actors/nwc_client.hpp"
#include "actors/platform_wallet.hpp"
#include "actors/view_board.hpp"
#include "billing/collection.hpp"
#include "domain/model.hpp"
#include "domain/relay_rules.hpp"
#include "domain/sealed_box.hpp"
#include "domain/tenant_view.hpp"
#include "domain/zooid_config.hpp"

namespace relayhost {

/// What every tenant actor shares (one instance per process).
struct tenant_env {
  relay_rules rules;
  std::string relay_domain;
  std::shared_ptr<const sealed_box> box;
  std::function<int64_t()> now;  // unix seconds on the billing clock
  caf::timespan idle_timeout;
  caf::timespan storage_timeout;  // a write not run by then is answered unavailable (storage_write::deadline)
  storage_actor storage;
  zooid_actor zooid;          // invalid: provisioning off (tests of the tenant API alone)
  zooid_context zooid_ctx;    // to recognise which desired state a sync outcome is about
  std::shared_ptr<view_board> views;  // where reads are published for the io threads; null: nowhere
  // DMs (issue 12): notices are written in the transaction of their cause and the
  // notifier is kicked after the commit. Invalid: notifications are disabled
  // (NOSTR_INDEXER_RELAYS unset), and no notice is written.
  notifier_actor notifier;
  std::string platform_name;      // PLATFORM_NAME, for the notices' texts
  std::function<int64_t()> real_now;  // real clock (notices are timed by it); null: time(nullptr)
  // NWC (issue 13): a tenant's wallet gets its own client on demand (linked to
  // the tenant actor, stopped when done or idle). Null: no wallet checks.
  std::shared_ptr<const nwc_env> wallet_env;
  caf::timespan wallet_answer_bound = std::chrono::seconds{150};  // CAF's bound on a client's answer
  std::shared_ptr<const platform_wallet_state> platform_wallet;   // its network; null: not configured
  // Invoicing (issue 14): bolt11s come from the platform wallet's client. Invalid:
  // NWC_URL unset (invoices are still made when periods close, without a bolt11).
  nwc_actor platform_nwc;
  int64_t invoice_expiry_seconds = 86400;  // INVOICE_EXPIRY_SECONDS
  int64_t grace_seconds = 7 * 86400;       // BILLING_GRACE_DAYS
  size_t max_periods_per_bill = 12;        // a tenant far behind catches up over several passes
  billing::collection_policy collection;   // PAYMENT_CHECK_SECONDS, NWC_PAY_RETRY_HOURS
  // Test-only fault injection (RELAYHOST_FAULT, honoured only with BILLING_TEST_CLOCK=1):
  // the process kills itself (SIGKILL) at the named step of a collection.
  std::string fault_point;
  std::shared_ptr<billing_counters> billing;  // null: not counted
};

struct tenant_state {
  static inline const char* name = "tenant";
  std::shared_ptr<const tenant_env> env;
  tenant_registry_actor registry;
  std::string pubkey;
  // Immutable once made: a change replaces the pointer, so the published view
  // shares them instead of copying (the io threads may be reading them).
  std::shared_ptr<const tenant> row;                 // null until the tenant exists in the database
  std::vector<std::shared_ptr<const relay>> relays;  // creation order
  std::shared_ptr<const tenant_view> view = std::make_shared<const tenant_view>();  // `row` + `relays`, published
  caf::actor_clock::time_point last_active;
  bool idle_armed = false;
  // The wallet check after PUT /tenant/billing (or at load, when a crash left it
  // "unverified"): only the newest check may write its outcome.
  uint64_t wallet_check_gen = 0;
  bool wallet_checking = false;
  // Invoices whose make_invoice is under way (never asked twice at once).
  std::set<std::string> minting;
  // Invoices whose collection step is under way (one at a time per invoice).
  std::set<std::string> collecting;
};

tenant_actor::behavior_type tenant_actor_impl(instrumented_pointer<tenant_actor, tenant_state> self,
                                              std::string pubkey, std::shared_ptr<const tenant_env> env,
                                              tenant_registry_actor registry);

} // namespace relayhost
