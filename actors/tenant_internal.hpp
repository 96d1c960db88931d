// What the tenant actor's handler files share (tenant_actor.cpp: the API and admin
// writes; tenant_billing.cpp: invoicing). Not an interface: only those files
// include it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

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

// tenant_billing.cpp
void bill(self_ptr self, tenant_call& call);
void admin_set_invoice(self_ptr self, tenant_call& call);

} // namespace relayhost::tenant_detail
