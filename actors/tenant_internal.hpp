// What the tenant actor's handler files share (tenant_actor.cpp: the API and admin
// writes; tenant_billing.cpp: invoicing). Not an interface: only those files
// include it.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/tenant_actor.hpp"
#include "domain/outbox.hpp"

namespace SQLite {
class Database;
}

namespace relayhost::tenant_detail {

using self_ptr = instrumented_pointer<tenant_actor, tenant_state>;
using http::api_response;
using json = nlohmann::json;

/// 32 hex characters of fresh randomness (relay, invoice and notice ids).
std::string new_id();

/// Unix seconds on the real clock (notices are timed by it).
int64_t real_now(self_ptr self);

/// A notice to the tenant, to be written with its cause; nullopt when
/// notifications are disabled.
std::optional<notification> notice(self_ptr self, std::string kind, std::string dedupe_key, std::string text);

/// After the commit that wrote a notice: the notifier delivers it now.
void kick_notifier(self_ptr self);

api_response ok_json(int status, const json& j);

/// The call's body as a JSON object with only `allowed` fields; nullopt after
/// answering 400 (invalid-json, or invalid-field naming the unknown field).
std::optional<json> parse_body(tenant_call& call, std::initializer_list<const char*> allowed);
api_response error_response(const api_error& e);

/// Publishes the committed state to the readers (call after changing row/relays).
void show(self_ptr self);
void set_row(self_ptr self, const tenant& t);

/// One write through the storage actor; `on_committed` runs after the commit,
/// other calls wait meanwhile (see tenant_actor.cpp).
void persist(self_ptr self, const char* label, std::function<void(SQLite::Database&)> apply,
             http::responder respond, std::string conflict_message, std::function<void()> on_committed);

audit_entry make_audit(self_ptr self, const tenant_call& call, std::string action, std::string type, std::string id,
                       std::optional<std::string> reason, std::string before);

/// Replaces the relay with the same id in memory (call show() after).
void replace_relay(self_ptr self, const relay& after);

/// Asks the zooid client to push the relay's (new) desired state.
void sync_to_zooid(self_ptr self, const relay& r);

/// One request to the tenant's own wallet through a client of its own (linked to
/// the tenant actor, stopped once answered); `then` gets the outcome (unknown when
/// the client did not answer). Answers not_sent when the stored connection cannot
/// be read.
void ask_tenant_wallet(self_ptr self, std::string method, std::string params,
                       std::function<void(const nwc_result&)> then);

// tenant_billing.cpp
void bill(self_ptr self, tenant_call& call);
void admin_set_invoice(self_ptr self, tenant_call& call);
/// A bill step without a caller (after a wallet was saved and checked ok).
void bill_now(self_ptr self);

// tenant_collect.cpp: collection of the open invoices that are due (all with `all`),
// then `done`.
/// What one lookup_invoice answer says of a bolt11: settled (by state, settled_at or a
/// preimage that hashes to `hash`), definitely not settled (an answer, or NOT_FOUND),
/// or unknown (no usable answer). The one place collection and renewal decide it.
enum class verdict { settled, not_settled, unknown };
verdict lookup_verdict(const nwc_result& r, const std::string& hash);

void collect(self_ptr self, int64_t now, std::shared_ptr<bill_summary> sum, std::function<void()> done, bool all);
/// After an invoice was paid (Lightning or admin) or voided: if no open invoice is
/// past its grace period any more, the relays delinquency switched off come back.
/// Runs inside the write's transaction (no actor state); fills `restored` with the
/// relays changed.
void restore_relays_in(SQLite::Database& db, const std::string& tenant, int64_t now, std::vector<relay>& restored,
                       const std::vector<relay>& candidates);
/// The relays (from memory) that delinquency switched off.
std::vector<relay> delinquent_relays(self_ptr self);
/// Applies relays changed by a committed write to memory and zooid.
void apply_committed_relays(self_ptr self, const std::vector<relay>& changed);

} // namespace relayhost::tenant_detail
