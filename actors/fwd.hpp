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
#include "http/api_types.hpp"

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

} // namespace relayhost

// Messages that never leave the process (no serialization needed).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(relayhost::storage_write)
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
