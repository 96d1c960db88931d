// The message vocabulary of relayhost: every atom and every typed actor interface,
// in one header, so the whole system's protocol can be read in one sitting.
// CAF 0.17 atoms are their text: a name used here must not be reused elsewhere.
#pragma once

#include <cstdint>
#include <chrono>
#include <functional>
#include <string>

#include <caf/atom.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <optional>

#include "domain/model.hpp"
#include "domain/outbox.hpp"
#include "domain/wallet_check.hpp"
#include "http/api_types.hpp"
#include "nostr/event.hpp"

namespace SQLite {
class Database;
}

namespace relayhost {

// -- atoms --------------------------------------------------------------------

using ping_atom = caf::atom_constant<caf::atom("rh_ping")>;     // health probe
using write_atom = caf::atom_constant<caf::atom("rh_write")>;   // group-committed write
using read_atom = caf::atom_constant<caf::atom("rh_read")>;     // read query
using flush_atom = caf::atom_constant<caf::atom("rh_flush")>;   // commit what is pending
using call_atom = caf::atom_constant<caf::atom("rh_call")>;     // an API call for a tenant
using idle_atom = caf::atom_constant<caf::atom("rh_idle")>;     // idle check / idle report
using stop_atom = caf::atom_constant<caf::atom("rh_stop")>;     // registry → tenant: quit when drained
using stats_atom = caf::atom_constant<caf::atom("rh_stats")>;   // counters for metrics and tests
using find_atom = caf::atom_constant<caf::atom("rh_find")>;     // look up a loaded actor
using sync_atom = caf::atom_constant<caf::atom("rh_sync")>;     // push a relay's desired state to zooid
using synced_atom = caf::atom_constant<caf::atom("rh_synced")>; // outcome of a push, for the tenant
using answer_atom = caf::atom_constant<caf::atom("rh_answer")>; // zooid's answer to one call
using retry_atom = caf::atom_constant<caf::atom("rh_retry")>;   // backoff timer of one relay's sync
using start_atom = caf::atom_constant<caf::atom("rh_start")>;   // wiring done: begin work
using probe_atom = caf::atom_constant<caf::atom("rh_probe")>;   // zooid reachability probe (tick / answer)
using publish_atom = caf::atom_constant<caf::atom("rh_publish")>;  // relay pool: publish an event, await OKs
using query_atom = caf::atom_constant<caf::atom("rh_query")>;      // relay pool: REQ until EOSE, then CLOSE
using subscribe_atom = caf::atom_constant<caf::atom("rh_sub")>;    // relay pool: a live subscription
using unsub_atom = caf::atom_constant<caf::atom("rh_unsub")>;      // relay pool: end a live subscription
using ws_atom = caf::atom_constant<caf::atom("rh_ws")>;            // a websocket's open/message/close (io thread)
using reconnect_atom = caf::atom_constant<caf::atom("rh_reconn")>; // backoff timer of one relay connection
using deadline_atom = caf::atom_constant<caf::atom("rh_deadl")>;   // an operation's timeout
using sweep_atom = caf::atom_constant<caf::atom("rh_sweep")>;      // close unused connections
using pool_event_atom = caf::atom_constant<caf::atom("rh_pevent")>;  // an event of a live subscription
using notify_atom = caf::atom_constant<caf::atom("rh_notify")>;    // the outbox has (new) due notices
using message_atom = caf::atom_constant<caf::atom("rh_msg")>;      // notifier: publication outcome / inbox list
using nwc_atom = caf::atom_constant<caf::atom("rh_nwc")>;          // a NIP-47 request to one wallet
using tick_atom = caf::atom_constant<caf::atom("rh_tick")>;        // billing scheduler: its timer / a clock move
using billed_atom = caf::atom_constant<caf::atom("rh_billed")>;    // a tenant's bill summary, to the scheduler

// -- storage messages ---------------------------------------------------------

/// A write to run inside the storage actor's current transaction. `apply` runs on
/// the storage actor's thread with the only connection, so it captures what it needs
/// by value. It throws to fail: its changes are rolled back to a savepoint, other
/// writes in the batch are kept, and it alone gets the error — `conflict` for a
/// UNIQUE/PRIMARY KEY violation, `unavailable` when the database is locked,
/// `internal` otherwise, or exactly what it threw as storage::rejected
/// (storage/errors.hpp). Several rows that must change together are ONE write.
/// The reply (true) comes only after the transaction that holds it has committed.
/// A write still waiting in the mailbox at its `deadline` is not run: it is answered
/// `unavailable` (so the requester knows it was not applied). This bounds the wait
/// for a write without a CAF request timeout, each of which costs a round trip to
/// CAF's clock thread (arm, then cancel) per write.
struct storage_write {
  std::string label;  // names the write in logs and metrics, e.g. "relay.create"
  std::function<void(SQLite::Database&)> apply;
  std::chrono::steady_clock::time_point deadline{};  // none when default
};

/// A read to run on the storage actor's connection; `run` fills what it captured
/// (the reply to the request orders that before the requester reads it). It runs
/// with PRAGMA query_only: an attempt to write fails. It may throw storage::rejected
/// (e.g. not_found) to answer with that error; other exceptions are `internal`.
struct storage_read {
  std::string label;
  std::function<void(SQLite::Database&)> run;
};

// -- tenant messages ----------------------------------------------------------

/// The tenant routes of api.md.
enum class tenant_op : uint8_t {
  get_tenant,        // GET /tenant (creates the tenant on first call)
  put_billing,       // PUT /tenant/billing
  list_relays,       // GET /tenant/relays
  create_relay,      // POST /tenant/relays
  get_relay,         // GET /tenant/relays/:id
  update_relay,      // PUT /tenant/relays/:id
  deactivate_relay,  // DELETE /tenant/relays/:id
  list_invoices,     // GET /tenant/invoices
  // Admin writes, routed to the owning tenant's actor (one writer per tenant):
  admin_set_status,        // PUT /admin/tenants/:pubkey
  admin_update_relay,      // PUT /admin/relays/:id
  admin_deactivate_relay,  // DELETE /admin/relays/:id
  admin_message,           // POST /admin/tenants/:pubkey/message
  admin_set_invoice,       // PUT /admin/invoices/:id (relay_id holds the invoice id)
  // From the billing scheduler: close the periods that have ended and get a
  // bolt11 for each open invoice that needs one; answered with a bill summary.
  bill,
};

/// One API call for one tenant, answered through `respond` by the tenant's actor.
struct tenant_call {
  tenant_op op = tenant_op::get_tenant;
  std::string relay_id;               // :id for the relay routes
  std::string body;                   // raw JSON body for writes
  std::optional<std::string> limit;   // ?limit= of list routes
  std::optional<std::string> cursor;  // ?cursor= of list routes
  std::string admin;                  // the admin's pubkey, for admin ops (audit)
  http::responder respond;
};

/// The admin routes of api.md.
enum class admin_op : uint8_t {
  list_tenants,      // GET /admin/tenants
  get_tenant,        // GET /admin/tenants/:pubkey
  set_tenant_status, // PUT /admin/tenants/:pubkey
  list_relays,       // GET /admin/relays
  get_relay,         // GET /admin/relays/:id
  update_relay,      // PUT /admin/relays/:id
  deactivate_relay,  // DELETE /admin/relays/:id
  list_audit,        // GET /admin/audit
  message_tenant,    // POST /admin/tenants/:pubkey/message
  list_notifications,  // GET /admin/notifications
  list_invoices,     // GET /admin/invoices
  set_invoice,       // PUT /admin/invoices/:id
  get_clock,         // GET /admin/clock (BILLING_TEST_CLOCK=1 only)
  move_clock,        // POST /admin/clock (likewise)
};

/// One admin API call (the caller is known to be an admin).
struct admin_call {
  admin_op op = admin_op::list_tenants;
  std::string admin;   // caller's hex pubkey
  std::string target;  // :pubkey or :id
  std::string body;
  std::optional<std::string> status, tenant, limit, cursor;  // query filters
  http::responder respond;
};

struct registry_stats {
  uint64_t loaded = 0;    // tenant actors alive
  uint64_t spawned = 0;   // tenant actors started since start
  uint64_t stopped_idle = 0;
  uint64_t failed = 0;    // tenant actors that died abnormally
};

// -- zooid messages -----------------------------------------------------------

/// The outcome of pushing one desired state of a relay to zooid. `fingerprint`
/// names the state that was pushed: the tenant applies the outcome only if it is
/// still the relay's desired state.
struct zooid_sync_result {
  std::string relay_id;
  std::string tenant;
  std::string fingerprint;
  sync_state state = sync_state::pending;  // pending (retrying), synced or failed
  std::optional<std::string> error;
  int64_t attempts = 0;
  int64_t at = 0;  // unix seconds of the last attempt
  bool provisioned = false;
};

/// One answer of zooid's API (status 0: no HTTP answer, `error` says why).
struct zooid_answer {
  int status = 0;
  std::string body;
  std::string error;
};

struct zooid_stats {
  uint64_t queued = 0;     // relays with a desired state not yet in zooid
  uint64_t in_flight = 0;
  uint64_t calls = 0;
  uint64_t synced = 0;
  uint64_t retries = 0;
  uint64_t failed = 0;     // syncs that ended `failed`
  uint64_t confirmations = 0;  // extra pushes after a call that got no answer (it may land late)
  uint64_t probes = 0;         // reachability probes sent (no call had answered lately)
};

// -- relay pool messages ------------------------------------------------------

/// Each relay's answer to one publication (domain/outbox.hpp: relay_publish_result).
struct publish_report {
  std::vector<relay_publish_result> relays;
};

enum class query_outcome : uint8_t { eose, closed, timed_out, failed };

struct relay_query_result {
  std::string relay;
  query_outcome outcome = query_outcome::failed;
  std::string message;  // CLOSED's message, or why the relay did not answer
};

/// The events a query collected (authentic, each once), and how each relay ended.
struct query_report {
  std::vector<nostr::event> events;
  std::vector<relay_query_result> relays;
};

/// What the websocket client reported about one connection (`link`), forwarded
/// from its io thread.
struct ws_signal {
  enum kind_t : uint8_t { open, message, closed };
  uint64_t link = 0;
  kind_t kind = open;
  std::string text;  // the message, or the close reason
};

struct relay_pool_stats {
  uint64_t connections = 0;  // entries (any state)
  uint64_t open = 0;
  uint64_t publishes = 0;    // operations in progress
  uint64_t queries = 0;
  uint64_t subscriptions = 0;
  uint64_t queued = 0;       // messages waiting for a connection, all relays
};

// -- notifier messages --------------------------------------------------------

struct notifier_stats {
  uint64_t passes = 0;       // due lists read
  uint64_t in_flight = 0;    // notifications being resolved or published now
  uint64_t sent = 0, undeliverable = 0, failed = 0, retried = 0;  // since start
  uint64_t inbox_lookups = 0, inbox_cache_hits = 0;
};

// -- NWC messages -------------------------------------------------------------
// nwc_result: domain/wallet_check.hpp

struct nwc_stats {
  uint64_t requests = 0, ok = 0, wallet_errors = 0, unknown = 0, not_sent = 0;
  uint64_t ignored = 0;   // response events that failed a check
  uint64_t info_reads = 0;
  uint64_t queued = 0, in_flight = 0;  // now
};

// -- billing messages ---------------------------------------------------------

/// What one tenant's billing step did (the tenant actor's answer to tenant_op::bill).
struct bill_summary {
  bool answered = false;       // false: the tenant actor did not answer (it died, storage down)
  int64_t periods_closed = 0;
  int64_t invoices_created = 0;
  int64_t bolt11_issued = 0;
  int64_t wallet_errors = 0;   // make_invoice failed, timed out or gave an answer that cannot be used
};

struct billing_scheduler_stats {
  uint64_t passes = 0, tenants_billed = 0, in_flight = 0, queued = 0, backing_off = 0;
  bool running = false;
};

// -- actor interfaces ---------------------------------------------------------

/// The only owner of the SQLite connection (actors/storage_actor.hpp).
using storage_actor = caf::typed_actor<
  // Health: commits what is pending, then proves the connection can take the write
  // lock (waiting at most 250 ms for it); replies true, or `unavailable`.
  caf::replies_to<ping_atom>::with<bool>,
  // A write; replies after its transaction commits (group commit).
  caf::replies_to<write_atom, storage_write>::with<bool>,
  // A read; replies after `run` returned (pending writes are committed first).
  caf::replies_to<read_atom, storage_read>::with<bool>,
  // Commits pending writes now (sent to itself; tests may send it too).
  caf::reacts_to<flush_atom>>;

/// The only writer of one tenant's state; serves its reads from memory.
using tenant_actor = caf::typed_actor<
  // An API call; answered through the call's responder.
  caf::reacts_to<call_atom, tenant_call>,
  // The outcome of a zooid push of one of its relays.
  caf::reacts_to<synced_atom, zooid_sync_result>,
  // Sent to itself: stop when idle for long enough.
  caf::reacts_to<idle_atom>,
  // From the registry after an idle report: quit (state is already persisted).
  caf::reacts_to<stop_atom>>;

/// pubkey → tenant actor: spawns on first use, stops idle ones, replaces dead ones.
using tenant_registry_actor = caf::typed_actor<
  // Routes a call to the tenant's actor (hex pubkey).
  caf::reacts_to<call_atom, std::string, tenant_call>,
  // Routes a zooid sync outcome to the relay's tenant (loading it if needed).
  caf::reacts_to<synced_atom, std::string, zooid_sync_result>,
  // A tenant actor reports it has been idle; the registry stops it.
  caf::reacts_to<idle_atom, std::string, tenant_actor>,
  caf::replies_to<stats_atom>::with<registry_stats>,
  // The tenant's actor if it is loaded, else an invalid handle (ops and tests).
  caf::replies_to<find_atom, std::string>::with<tenant_actor>>;

/// Serves the admin routes: platform-wide reads through the storage actor, and
/// writes forwarded to the owning tenant's actor through the registry.
using admin_actor = caf::typed_actor<caf::reacts_to<call_atom, admin_call>>;

/// Pushes relays' desired state to zooid: one call in flight per relay, the
/// latest desired state always wins, transient failures retried with backoff.
using zooid_actor = caf::typed_actor<
  // The desired state of a relay changed (or must be pushed again).
  caf::reacts_to<sync_atom, relay>,
  // Wiring: where outcomes go; then reconcile every relay not synced.
  caf::reacts_to<start_atom, tenant_registry_actor>,
  // zooid's answer to call `call_id` for relay `relay_id` (from the HTTP client).
  caf::reacts_to<answer_atom, std::string, uint64_t, zooid_answer>,
  // Backoff timer for relay `relay_id`, valid only for retry generation `gen`.
  caf::reacts_to<retry_atom, std::string, uint64_t>,
  // Health: a timer; when no call has answered lately, probe zooid (/healthz stays fresh).
  caf::reacts_to<probe_atom>,
  // The probe's answer (any HTTP status proves zooid reachable).
  caf::reacts_to<probe_atom, zooid_answer>,
  caf::replies_to<stats_atom>::with<zooid_stats>>;

/// Receives the events of a live subscription: (subscription, relay URL, event).
using pool_subscriber_actor = caf::typed_actor<caf::reacts_to<pool_event_atom, uint64_t, std::string, nostr::event>>;

/// Websocket connections to Nostr relays, shared (actors/relay_pool.hpp).
using relay_pool_actor = caf::typed_actor<
  // Publishes to each relay (URLs; normalised here); answers when every relay has
  // answered OK or the timeout passed. A bad URL is answered `failed` for it.
  caf::replies_to<publish_atom, nostr::event, std::vector<std::string>, caf::timespan>::with<publish_report>,
  // REQ with the filters (JSON objects) on each relay until EOSE/CLOSED or the timeout.
  caf::replies_to<query_atom, std::vector<std::string>, std::vector<std::string>, caf::timespan>::with<query_report>,
  // A live subscription: events go to the subscriber until unsub (or it ends).
  caf::replies_to<subscribe_atom, std::vector<std::string>, std::vector<std::string>, pool_subscriber_actor>::with<
    uint64_t>,
  caf::reacts_to<unsub_atom, uint64_t>,
  // Internal: io-thread signals, backoff timers, operation deadlines, idle sweeps.
  caf::reacts_to<ws_atom, ws_signal>,
  caf::reacts_to<reconnect_atom, std::string, uint64_t>,
  caf::reacts_to<deadline_atom, uint64_t>,
  caf::reacts_to<sweep_atom>,
  caf::replies_to<stats_atom>::with<relay_pool_stats>>;

/// The durable DM outbox (actors/notifier.hpp): delivers what the storage holds.
using notifier_actor = caf::typed_actor<
  // A notice was committed (or is due): look at the outbox now.
  caf::reacts_to<notify_atom>,
  // Its own wake-up timer, valid only for generation `gen`.
  caf::reacts_to<retry_atom, uint64_t>,
  caf::replies_to<stats_atom>::with<notifier_stats>>;

/// One wallet connection (actors/nwc_client.hpp).
using nwc_actor = caf::typed_actor<
  // A request: method ("get_info", "make_invoice", "lookup_invoice", "pay_invoice")
  // and its params (a JSON object's text). Always answered, never with an error.
  caf::replies_to<nwc_atom, std::string, std::string>::with<nwc_result>,
  // Responses from the pool's subscriptions.
  caf::reacts_to<pool_event_atom, uint64_t, std::string, nostr::event>,
  // Internal: a request's timeout (seq), the end of a RATE_LIMITED pause, idle checks.
  caf::reacts_to<deadline_atom, uint64_t>,
  caf::reacts_to<retry_atom>,
  caf::reacts_to<idle_atom, uint64_t>,
  caf::replies_to<stats_atom>::with<nwc_stats>>;

/// Checks the platform wallet with get_info at start and, while billing is
/// disabled, again with backoff (actors/platform_wallet.hpp).
using platform_wallet_actor = caf::typed_actor<caf::reacts_to<start_atom>, caf::reacts_to<retry_atom>>;

/// Wakes every BILLING_TICK_SECONDS (and at once when the test clock moves) and
/// asks each tenant whose period has closed, or whose open invoice needs a bolt11,
/// to bill, a bounded number at a time (actors/billing_scheduler.hpp).
using billing_scheduler_actor = caf::typed_actor<
  caf::reacts_to<tick_atom>,         // timer: a pass now, and the next tick armed
  caf::reacts_to<tick_atom, bool>,   // a pass now (the clock moved), no new timer
  caf::reacts_to<billed_atom, std::string, bill_summary>,
  caf::replies_to<stats_atom>::with<billing_scheduler_stats>>;

/// Publishes the platform's kind 0, 10002 and 10050 to the indexers at start,
/// retrying each relay that did not take them (actors/identity_publisher.hpp).
using identity_actor = caf::typed_actor<caf::reacts_to<start_atom>, caf::reacts_to<retry_atom, uint64_t>>;

} // namespace relayhost

// Messages that never leave the process (no serialization needed).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::storage_write)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::nwc_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::nwc_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::storage_read)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::http::responder)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::http::api_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::tenant_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::admin_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::registry_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::relay)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::zooid_sync_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::zooid_answer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::zooid_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::nostr::event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::publish_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::query_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::ws_signal)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::relay_pool_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::notifier_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::bill_summary)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::billing_scheduler_stats)
