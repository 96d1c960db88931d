#include "app/openapi.hpp"

#include <memory>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/errc.hpp"

namespace relayhost {

namespace {

using nlohmann::json;

// -- building blocks ------------------------------------------------------------

json schema_ref(std::string_view name) {
  return {{"$ref", "#/components/schemas/" + std::string(name)}};
}

json response_ref(std::string_view name) {
  return {{"$ref", "#/components/responses/" + std::string(name)}};
}

json parameter_ref(std::string_view name) {
  return {{"$ref", "#/components/parameters/" + std::string(name)}};
}

json nullable(json schema) {
  // OpenAPI 3.1 is JSON Schema 2020-12: null is a type, not a `nullable` flag.
  if (schema.contains("type") && schema["type"].is_string())
    schema["type"] = json::array({schema["type"], "null"});
  else
    schema = {{"oneOf", json::array({std::move(schema), {{"type", "null"}}})}};
  return schema;
}

json json_body(json schema) {
  return {{"application/json", {{"schema", std::move(schema)}}}};
}

json ok(std::string_view description, json schema) {
  return {{"description", description}, {"content", json_body(std::move(schema))}};
}

json request_body(json schema, std::string_view description = {}) {
  json b{{"required", true}, {"content", json_body(std::move(schema))}};
  if (!description.empty())
    b["description"] = description;
  return b;
}

json object(json properties, json required, bool closed) {
  json s{{"type", "object"}, {"properties", std::move(properties)}};
  if (!required.empty())
    s["required"] = std::move(required);
  if (closed)
    s["additionalProperties"] = false;  // api.md: unknown fields are rejected (invalid-field)
  return s;
}

json string_enum(std::initializer_list<const char*> values) {
  json e = json::array();
  for (auto v : values)
    e.push_back(v);
  return {{"type", "string"}, {"enum", std::move(e)}};
}

json page_of(std::string_view item) {
  return object({{"items", {{"type", "array"}, {"items", schema_ref(item)}}},
                 {"next_cursor",
                  {{"type", json::array({"string", "null"})},
                   {"description", "Opaque; pass as ?cursor= for the next page. null on the last page."}}}},
                {"items", "next_cursor"}, false);
}

json operation(std::string_view tag, std::string_view id, std::string_view summary, bool nip98) {
  json op{{"tags", json::array({tag})}, {"operationId", id}, {"summary", summary}, {"responses", json::object()}};
  if (nip98) {
    op["security"] = json::array({{{"nip98", json::array()}}});
    op["responses"]["401"] = response_ref("Unauthorized");
  }
  op["responses"]["500"] = response_ref("Internal");
  op["responses"]["503"] = response_ref("Unavailable");
  return op;
}

/// Adds what every write with a JSON body may answer.
void with_body(json& op, json schema, std::string_view description = {}) {
  op["requestBody"] = request_body(std::move(schema), description);
  op["responses"]["400"] = response_ref("BadRequest");
  op["responses"]["413"] = response_ref("PayloadTooLarge");
}

void paginated(json& op) {
  op["parameters"] = json::array({parameter_ref("limit"), parameter_ref("cursor")});
  op["responses"]["400"] = response_ref("BadRequest");
}

// -- components -----------------------------------------------------------------

json error_schema() {
  json codes = json::array();
  for (auto e : {errc::unauthorized, errc::forbidden, errc::not_found, errc::method_not_allowed, errc::invalid_json,
                 errc::invalid_field, errc::payload_too_large, errc::headers_too_large, errc::conflict,
                 errc::tenant_suspended, errc::unavailable, errc::internal})
    codes.push_back(std::string(api_code(e)));
  return object({{"error", {{"type", "string"}, {"description", "Human readable; never leaks internals."}}},
                 {"code", {{"type", "string"}, {"enum", codes}}},
                 {"field",
                  {{"type", "string"},
                   {"description", "With invalid-field: the offending field, as a dot path (e.g. policy.extra)."}}}},
                {"error", "code"}, false);
}

json schemas() {
  json s;
  s["Error"] = error_schema();
  s["Pubkey"] = {{"type", "string"}, {"pattern", "^[0-9a-f]{64}$"}, {"description", "Lowercase hex."}};
  s["PubkeyInput"] = {{"type", "string"},
                      {"pattern", "^([0-9a-f]{64}|npub1[02-9ac-hj-np-z]{58})$"},
                      {"description", "A pubkey as accepted: 64 hex characters or NIP-19 npub1…"}};
  s["UnixTime"] = {{"type", "integer"}, {"format", "int64"}, {"description", "Unix seconds."}};
  s["Sats"] = {{"type", "integer"}, {"format", "int64"}, {"minimum", 0}, {"description", "Whole sats."}};

  s["Billing"] = object(
    {{"nwc_connected", {{"type", "boolean"}}},
     {"wallet_pubkey", nullable(schema_ref("Pubkey"))},
     {"nwc_status",
      {{"type", json::array({"string", "null"})},
       {"description", "\"ok\", \"unverified\", \"error: …\", or null without a wallet."}}},
     {"anchor", nullable(schema_ref("UnixTime"))},
     {"balance_due_sats", schema_ref("Sats")}},
    {"nwc_connected", "wallet_pubkey", "nwc_status", "anchor", "balance_due_sats"}, false);
  s["Billing"]["description"] = "The NWC URL and its secret are never returned.";
  s["Tenant"] = object({{"pubkey", schema_ref("Pubkey")},
                        {"status", string_enum({"active", "suspended"})},
                        {"created_at", schema_ref("UnixTime")},
                        {"billing", schema_ref("Billing")}},
                       {"pubkey", "status", "created_at", "billing"}, false);
  s["AdminTenant"] = {{"allOf", json::array({schema_ref("Tenant"),
                                             object({{"suspend_reason", {{"type", json::array({"string", "null"})}}},
                                                     {"suspended_at", nullable(schema_ref("UnixTime"))}},
                                                    json::array(), false)})}};
  s["AdminTenantDetail"] = {
    {"allOf", json::array({schema_ref("AdminTenant"),
                           object({{"relays", {{"type", "array"}, {"items", schema_ref("AdminRelay")}}},
                                   {"invoices",
                                    {{"type", "array"},
                                     {"items", schema_ref("Invoice")},
                                     {"maxItems", 20},
                                     {"description", "The latest 20 invoices."}}}},
                                  {"relays", "invoices"}, false)})}};
  s["TenantPage"] = page_of("AdminTenant");

  s["RelayPolicy"] = object({{"public_join", {{"type", "boolean"}}}, {"strip_signatures", {{"type", "boolean"}}}},
                            json::array(), true);
  s["RelaySync"] = object({{"state", string_enum({"pending", "synced", "failed"})},
                           {"error", {{"type", json::array({"string", "null"})}}},
                           {"attempts", {{"type", "integer"}, {"minimum", 0}}},
                           {"last_attempt_at", nullable(schema_ref("UnixTime"))}},
                          {"state", "error", "attempts", "last_attempt_at"}, false);
  s["RelayStatus"] = string_enum({"active", "inactive", "suspended", "delinquent"});
  s["Subdomain"] = {{"type", "string"},
                    {"pattern", "^[a-z][a-z0-9-]{1,61}[a-z0-9]$"},
                    {"description", "A DNS label (3–63 chars of a-z 0-9 -, starting with a letter, not ending with "
                                    "'-'), not reserved. Cannot change."}};
  s["RelayName"] = {{"type", "string"}, {"minLength", 1}, {"maxLength", 64}};
  s["RelayDescription"] = {{"type", "string"}, {"maxLength", 500}};
  s["RelayIcon"] = {{"type", json::array({"string", "null"})},
                    {"maxLength", 500},
                    {"pattern", "^https://"},
                    {"description", "An https:// URL."}};
  s["Reason"] = {{"type", "string"}, {"minLength", 1}, {"maxLength", 500}, {"description", "Recorded in the audit log."}};
  s["Plan"] = {{"type", "string"}, {"description", "One of the configured plans (PLANS), e.g. free, basic, growth."}};
  s["Relay"] = object({{"id", {{"type", "string"}, {"description", "Opaque."}}},
                       {"tenant", schema_ref("Pubkey")},
                       {"subdomain", schema_ref("Subdomain")},
                       {"host", {{"type", "string"}, {"description", "<subdomain>.<RELAY_DOMAIN>"}}},
                       {"url", {{"type", "string"}, {"description", "wss://<host>"}}},
                       {"name", schema_ref("RelayName")},
                       {"description", schema_ref("RelayDescription")},
                       {"icon", schema_ref("RelayIcon")},
                       {"plan", schema_ref("Plan")},
                       {"policy", schema_ref("RelayPolicy")},
                       {"status", schema_ref("RelayStatus")},
                       {"sync", schema_ref("RelaySync")},
                       {"created_at", schema_ref("UnixTime")},
                       {"updated_at", schema_ref("UnixTime")}},
                      {"id", "tenant", "subdomain", "host", "url", "name", "description", "icon", "plan", "policy",
                       "status", "sync", "created_at", "updated_at"},
                      false);
  s["AdminRelay"] = {
    {"allOf", json::array({schema_ref("Relay"),
                           object({{"suspended_by",
                                    {{"type", json::array({"string", "null"})},
                                     {"enum", json::array({"tenant", "admin", nullptr})},
                                     {"description", "tenant: the tenant's suspension; admin: this relay alone."}}},
                                   {"suspend_reason", {{"type", json::array({"string", "null"})}}}},
                                  json::array(), false)})}};
  s["RelayPage"] = page_of("Relay");
  s["AdminRelayPage"] = page_of("AdminRelay");
  s["RelayCreate"] = object({{"subdomain", schema_ref("Subdomain")},
                             {"name", schema_ref("RelayName")},
                             {"plan", schema_ref("Plan")},
                             {"description", schema_ref("RelayDescription")},
                             {"icon", schema_ref("RelayIcon")},
                             {"policy", schema_ref("RelayPolicy")}},
                            {"subdomain", "name", "plan"}, true);
  // Round-tripping a relay object is harmless: its own subdomain is accepted, any other is 400.
  const json same_subdomain{{"$ref", "#/components/schemas/Subdomain"},
                            {"description", "Accepted only when equal to the relay's subdomain (it cannot change)."}};
  s["RelayUpdate"] = object({{"subdomain", same_subdomain},
                             {"name", schema_ref("RelayName")},
                             {"description", schema_ref("RelayDescription")},
                             {"icon", schema_ref("RelayIcon")},
                             {"plan", schema_ref("Plan")},
                             {"policy", schema_ref("RelayPolicy")},
                             {"status", string_enum({"active", "inactive"})}},
                            json::array(), true);
  s["AdminRelayUpdate"] = object({{"subdomain", same_subdomain},
                                  {"name", schema_ref("RelayName")},
                                  {"description", schema_ref("RelayDescription")},
                                  {"icon", schema_ref("RelayIcon")},
                                  {"plan", schema_ref("Plan")},
                                  {"policy", schema_ref("RelayPolicy")},
                                  {"status", string_enum({"active", "inactive", "suspended"})},
                                  {"reason", schema_ref("Reason")}},
                                 json::array(), true);
  s["BillingUpdate"] = object(
    {{"nwc_url",
      {{"type", json::array({"string", "null"})},
       {"description", "nostr+walletconnect://<wallet-hex>?relay=…&secret=<64 hex>, or null to disconnect. Stored "
                       "encrypted; never returned or logged."}}}},
    {"nwc_url"}, true);
  s["AdminTenantUpdate"] = object(
    {{"status", string_enum({"active", "suspended"})},
     {"reason", {{"oneOf", json::array({schema_ref("Reason"), {{"type", "null"}}})},
                 {"description", "Required when suspending."}}}},
    {"status"}, true);

  s["InvoiceItem"] = object({{"relay_id", {{"type", "string"}}},
                             {"subdomain", schema_ref("Subdomain")},
                             {"plan", schema_ref("Plan")},
                             {"active_hours", {{"type", "integer"}, {"minimum", 0}}},
                             {"amount_sats", schema_ref("Sats")},
                             {"segments",
                              {{"type", "array"},
                               {"description", "Present when the relay had several plan segments in the period "
                                               "(the item amount is rounded once over all of them)."},
                               {"items", object({{"plan", schema_ref("Plan")},
                                                 {"active_seconds", {{"type", "integer"}, {"minimum", 0}}},
                                                 {"amount_sats", schema_ref("Sats")}},
                                                {"plan", "active_seconds", "amount_sats"}, false)}}}},
                            {"relay_id", "subdomain", "plan", "active_hours", "amount_sats"}, false);
  s["Invoice"] = object({{"id", {{"type", "string"}}},
                         {"status", string_enum({"open", "paid", "void"})},
                         {"amount_sats", schema_ref("Sats")},
                         {"period_start", schema_ref("UnixTime")},
                         {"period_end", schema_ref("UnixTime")},
                         {"created_at", schema_ref("UnixTime")},
                         {"paid_at", nullable(schema_ref("UnixTime"))},
                         {"paid_via", {{"oneOf", json::array({string_enum({"lightning", "admin"}), {{"type", "null"}}})}}},
                         {"voided_at", nullable(schema_ref("UnixTime"))},
                         {"status_reason", {{"type", json::array({"string", "null"})},
                                            {"description", "The admin's reason for void or a manual paid."}}},
                         {"tenant", schema_ref("Pubkey")},
                         {"bolt11", {{"type", json::array({"string", "null"})}}},
                         {"payment_hash", {{"type", json::array({"string", "null"})}, {"pattern", "^[0-9a-f]{64}$"}}},
                         {"due_at", schema_ref("UnixTime")},
                         {"items", {{"type", "array"}, {"items", schema_ref("InvoiceItem")}}}},
                        {"id", "status", "amount_sats", "period_start", "period_end", "created_at", "paid_at",
                         "due_at", "items"},
                        false);
  s["AdminInvoice"] = {{"allOf", json::array({schema_ref("Invoice"),
                                              object({{"tenant", schema_ref("Pubkey")}}, {"tenant"}, false)})}};
  s["InvoicePage"] = page_of("Invoice");
  s["AdminInvoicePage"] = page_of("AdminInvoice");
  s["AdminInvoiceUpdate"] = object(
    {{"status", string_enum({"void", "paid"})},
     {"reason", schema_ref("Reason")}},
    {"status", "reason"}, true);

  s["AuditEntry"] = object(
    {{"id", {{"type", "integer"}}},
     {"at", schema_ref("UnixTime")},
     {"admin", schema_ref("Pubkey")},
     {"action", {{"type", "string"}, {"description", "e.g. tenant.suspend, relay.update, invoice.void"}}},
     {"target_type", {{"type", "string"}, {"description", "tenant, relay, invoice or clock"}}},
     {"target_id", {{"type", "string"}}},
     {"reason", {{"type", json::array({"string", "null"})}}},
     {"before", {{"type", json::array({"object", "null"})}, {"description", "The target before the change."}}},
     {"after", {{"type", json::array({"object", "null"})}, {"description", "The target after the change."}}}},
    {"id", "at", "admin", "action", "target_type", "target_id", "reason", "before", "after"}, false);
  s["AuditPage"] = page_of("AuditEntry");

  s["AdminMessage"] = object(
    {{"text", {{"type", "string"}, {"minLength", 1}, {"maxLength", 2000}, {"description", "Characters, not bytes."}}}},
    {"text"}, true);
  s["NotificationState"] = string_enum({"pending", "sent", "undeliverable", "failed"});
  s["MessageAccepted"] = object({{"id", {{"type", "string"}, {"pattern", "^[0-9a-f]{32}$"}}},
                                 {"state", string_enum({"pending"})},
                                 {"recipient", schema_ref("Pubkey")}},
                                {"id", "state", "recipient"}, false);
  s["RelayOutcome"] = object({{"relay", {{"type", "string"}}},
                              {"outcome", string_enum({"accepted", "rejected", "timed_out", "failed"})},
                              {"message", {{"type", "string"}}}},
                             {"relay", "outcome", "message"}, false);
  s["Notification"] = object(
    {{"id", {{"type", "string"}, {"pattern", "^[0-9a-f]{32}$"}}},
     {"recipient", schema_ref("Pubkey")},
     {"kind", {{"type", "string"}, {"description", "What caused it: tenant.suspended, tenant.unsuspended, admin.message"}}},
     {"state", schema_ref("NotificationState")},
     {"text", {{"type", "string"}, {"description", "The platform's notice (what the tenant reads)."}}},
     {"attempts", {{"type", "integer"}}},
     {"event_id", {{"type", json::array({"string", "null"})}, {"description", "The gift wrap's id, once built."}}},
     {"next_attempt_at", nullable(schema_ref("UnixTime"))},
     {"last_error", {{"type", json::array({"string", "null"})}}},
     {"created_at", schema_ref("UnixTime")},
     {"updated_at", schema_ref("UnixTime")},
     {"sent_at", nullable(schema_ref("UnixTime"))},
     {"relays", {{"type", "array"}, {"items", schema_ref("RelayOutcome")}, {"description", "Latest outcome per inbox relay."}}}},
    {"id", "recipient", "kind", "state", "text", "attempts", "event_id", "next_attempt_at", "last_error", "created_at",
     "updated_at", "sent_at", "relays"},
    false);
  s["NotificationPage"] = page_of("Notification");

  s["Clock"] = object({{"now", schema_ref("UnixTime")}, {"real_now", schema_ref("UnixTime")}}, {"now", "real_now"},
                      false);
  s["ClockUpdate"] = {
    {"oneOf", json::array({object({{"advance_seconds", {{"type", "integer"}, {"minimum", 0}}}}, {"advance_seconds"},
                                  true),
                           object({{"now", schema_ref("UnixTime")}}, {"now"}, true)})},
    {"description", "Move the test clock forward, by seconds or to a time; it never goes backwards."}};

  s["Health"] = object({{"status", string_enum({"ok", "degraded"})},
                        {"database", string_enum({"ok", "unavailable"})},
                        {"zooid", string_enum({"ok", "unreachable", "unknown"})},
                        {"version", {{"type", "string"}}}},
                       {"status", "database", "zooid", "version"}, false);
  return s;
}

json error_response(std::string_view description) {
  return {{"description", description}, {"content", json_body(schema_ref("Error"))}};
}

json responses() {
  json r;
  r["BadRequest"] = error_response("invalid-json, or invalid-field naming the field (also a bad ?limit= or ?cursor=).");
  r["Unauthorized"] = error_response("unauthorized: the NIP-98 Authorization header is missing or fails a check "
                                     "(the message says which).");
  r["Unauthorized"]["headers"]["WWW-Authenticate"] = {{"schema", {{"type", "string"}, {"const", "Nostr"}}}};
  r["Forbidden"] = error_response("forbidden (not an admin, or a change the caller may not make), or "
                                  "tenant-suspended for a suspended tenant's relay writes.");
  r["NotFound"] = error_response("not-found (another tenant's relay is also not-found).");
  r["Conflict"] = error_response("conflict.");
  r["PayloadTooLarge"] = error_response("payload-too-large: the body exceeds 64 KiB.");
  r["Unavailable"] = error_response("unavailable: try again later.");
  r["Internal"] = error_response("internal.");
  return r;
}

json parameters() {
  json p;
  p["limit"] = {{"name", "limit"},
                {"in", "query"},
                {"description", "Page size; anything outside 1–500 is 400 invalid-field."},
                {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", 500}, {"default", 50}}}};
  p["cursor"] = {{"name", "cursor"},
                 {"in", "query"},
                 {"description", "next_cursor of the previous page; a malformed one is 400 invalid-field."},
                 {"schema", {{"type", "string"}}}};
  p["id"] = {{"name", "id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}};
  p["pubkey"] = {{"name", "pubkey"}, {"in", "path"}, {"required", true}, {"schema", schema_ref("PubkeyInput")}};
  p["tenant_filter"] = {{"name", "tenant"},
                        {"in", "query"},
                        {"description", "Only this tenant's."},
                        {"schema", schema_ref("PubkeyInput")}};
  return p;
}

json status_filter(json values) {
  return {{"name", "status"}, {"in", "query"}, {"description", "Only this status."}, {"schema", std::move(values)}};
}

// -- paths ------------------------------------------------------------------------

json tenant_paths() {
  json p;
  {
    auto op = operation("tenant", "getTenant", "The caller's tenant, created on first call", true);
    op["responses"]["200"] = ok("The tenant.", schema_ref("Tenant"));
    p["/tenant"]["get"] = op;
  }
  {
    auto op = operation("tenant", "putBilling", "Connect or disconnect the tenant's NWC wallet", true);
    with_body(op, schema_ref("BillingUpdate"));
    op["description"] = "Allowed for suspended and delinquent tenants. Open invoices are then collected from the new "
                        "wallet asynchronously.";
    op["responses"]["200"] = ok("The tenant.", schema_ref("Tenant"));
    p["/tenant/billing"]["put"] = op;
  }
  {
    auto op = operation("tenant", "listRelays", "The caller's relays, in creation order", true);
    paginated(op);
    op["responses"]["200"] = ok("A page of relays.", schema_ref("RelayPage"));
    p["/tenant/relays"]["get"] = op;
  }
  {
    auto op = operation("tenant", "createRelay", "Create a relay (provisioned in zooid in the background)", true);
    with_body(op, schema_ref("RelayCreate"));
    op["responses"]["201"] = ok("The relay, with sync state pending.", schema_ref("Relay"));
    op["responses"]["403"] = response_ref("Forbidden");
    op["responses"]["409"] = response_ref("Conflict");
    p["/tenant/relays"]["post"] = op;
  }
  auto& relay = p["/tenant/relays/{id}"];
  relay["parameters"] = json::array({parameter_ref("id")});
  {
    auto op = operation("tenant", "getRelay", "One of the caller's relays", true);
    op["responses"]["200"] = ok("The relay.", schema_ref("Relay"));
    op["responses"]["404"] = response_ref("NotFound");
    relay["get"] = op;
  }
  {
    auto op = operation("tenant", "updateRelay", "Change one of the caller's relays", true);
    with_body(op, schema_ref("RelayUpdate"));
    op["responses"]["200"] = ok("The updated relay.", schema_ref("Relay"));
    op["responses"]["403"] = response_ref("Forbidden");
    op["responses"]["404"] = response_ref("NotFound");
    relay["put"] = op;
  }
  {
    auto op = operation("tenant", "deactivateRelay", "Deactivate one of the caller's relays (idempotent; no data "
                                                     "is deleted)", true);
    op["responses"]["200"] = ok("The relay, inactive.", schema_ref("Relay"));
    op["responses"]["403"] = response_ref("Forbidden");
    op["responses"]["404"] = response_ref("NotFound");
    relay["delete"] = op;
  }
  {
    auto op = operation("tenant", "listInvoices", "The caller's invoices, newest first", true);
    paginated(op);
    op["responses"]["200"] = ok("A page of invoices.", schema_ref("InvoicePage"));
    p["/tenant/invoices"]["get"] = op;
  }
  return p;
}

json admin_operation(std::string_view id, std::string_view summary) {
  auto op = operation("admin", id, summary, true);
  op["responses"]["403"] = response_ref("Forbidden");
  return op;
}

json admin_paths() {
  json p;
  {
    auto op = admin_operation("adminListTenants", "Tenants, in creation order");
    paginated(op);
    op["parameters"].push_back(status_filter(string_enum({"active", "suspended"})));
    op["responses"]["200"] = ok("A page of tenants.", schema_ref("TenantPage"));
    p["/admin/tenants"]["get"] = op;
  }
  auto& tenant = p["/admin/tenants/{pubkey}"];
  tenant["parameters"] = json::array({parameter_ref("pubkey")});
  {
    auto op = admin_operation("adminGetTenant", "A tenant with its relays and latest invoices");
    op["responses"]["200"] = ok("The tenant.", schema_ref("AdminTenantDetail"));
    op["responses"]["404"] = response_ref("NotFound");
    tenant["get"] = op;
  }
  {
    auto op = admin_operation("adminSetTenantStatus", "Suspend a tenant or lift its suspension (audited)");
    with_body(op, schema_ref("AdminTenantUpdate"));
    op["description"] = "Suspending suspends every active relay of the tenant at once (deactivated in zooid); "
                        "lifting restores exactly the relays the suspension changed.";
    op["responses"]["200"] = ok("The tenant.", schema_ref("AdminTenant"));
    op["responses"]["404"] = response_ref("NotFound");
    tenant["put"] = op;
  }
  {
    auto op = admin_operation("adminListRelays", "Relays, in creation order");
    paginated(op);
    op["parameters"].push_back(status_filter(schema_ref("RelayStatus")));
    op["parameters"].push_back(parameter_ref("tenant_filter"));
    op["responses"]["200"] = ok("A page of relays.", schema_ref("AdminRelayPage"));
    p["/admin/relays"]["get"] = op;
  }
  auto& relay = p["/admin/relays/{id}"];
  relay["parameters"] = json::array({parameter_ref("id")});
  {
    auto op = admin_operation("adminGetRelay", "Any relay");
    op["responses"]["200"] = ok("The relay.", schema_ref("AdminRelay"));
    op["responses"]["404"] = response_ref("NotFound");
    relay["get"] = op;
  }
  {
    auto op = admin_operation("adminUpdateRelay", "Change any relay, including suspending it (audited)");
    with_body(op, schema_ref("AdminRelayUpdate"));
    op["responses"]["200"] = ok("The updated relay.", schema_ref("AdminRelay"));
    op["responses"]["404"] = response_ref("NotFound");
    relay["put"] = op;
  }
  {
    auto op = admin_operation("adminDeactivateRelay", "Deactivate any relay (audited)");
    op["responses"]["200"] = ok("The relay, inactive.", schema_ref("AdminRelay"));
    op["responses"]["404"] = response_ref("NotFound");
    relay["delete"] = op;
  }
  {
    auto op = admin_operation("adminListInvoices", "Invoices of all tenants");
    paginated(op);
    op["parameters"].push_back(status_filter(string_enum({"open", "paid", "void"})));
    op["parameters"].push_back(parameter_ref("tenant_filter"));
    op["responses"]["200"] = ok("A page of invoices.", schema_ref("AdminInvoicePage"));
    p["/admin/invoices"]["get"] = op;
  }
  {
    auto& inv = p["/admin/invoices/{id}"];
    inv["parameters"] = json::array({parameter_ref("id")});
    auto op = admin_operation("adminSetInvoiceStatus", "Void an open invoice or mark it paid outside Lightning "
                                                       "(audited)");
    with_body(op, schema_ref("AdminInvoiceUpdate"));
    op["description"] = "Only from open, otherwise 409 conflict. paid reactivates delinquent relays like any payment.";
    op["responses"]["200"] = ok("The invoice.", schema_ref("AdminInvoice"));
    op["responses"]["404"] = response_ref("NotFound");
    op["responses"]["409"] = response_ref("Conflict");
    inv["put"] = op;
  }
  {
    auto op = admin_operation("adminListAudit", "The audit log of admin writes, oldest first");
    paginated(op);
    op["responses"]["200"] = ok("A page of audit entries.", schema_ref("AuditPage"));
    p["/admin/audit"]["get"] = op;
  }
  {
    auto& msg = p["/admin/tenants/{pubkey}/message"];
    msg["parameters"] = json::array({parameter_ref("pubkey")});
    auto op = admin_operation("adminMessageTenant", "Send a tenant a NIP-17 direct message (audited)");
    with_body(op, schema_ref("AdminMessage"));
    op["description"] = "Written to the outbox and delivered to the tenant's kind-10050 inbox relays; the answer "
                        "does not wait for the delivery. 503 unavailable when notifications are disabled "
                        "(NOSTR_INDEXER_RELAYS unset).";
    op["responses"]["202"] = ok("Queued.", schema_ref("MessageAccepted"));
    op["responses"]["404"] = response_ref("NotFound");
    msg["post"] = op;
  }
  {
    auto op = admin_operation("adminListNotifications", "The DM outbox, in creation order");
    paginated(op);
    op["parameters"].push_back({{"name", "state"}, {"in", "query"}, {"description", "Only this state."},
                                {"schema", schema_ref("NotificationState")}});
    op["parameters"].push_back(parameter_ref("tenant_filter"));
    op["responses"]["200"] = ok("A page of notifications.", schema_ref("NotificationPage"));
    p["/admin/notifications"]["get"] = op;
  }
  auto& clock = p["/admin/clock"];
  const char* clock_note = "Only when the server runs with BILLING_TEST_CLOCK=1; otherwise 404 not-found. Billing, "
                           "grace periods, payment retries and invoice expiry run on this clock.";
  {
    auto op = admin_operation("adminGetClock", "The billing test clock");
    op["description"] = clock_note;
    op["responses"]["200"] = ok("The clocks.", schema_ref("Clock"));
    op["responses"]["404"] = response_ref("NotFound");
    clock["get"] = op;
  }
  {
    auto op = admin_operation("adminMoveClock", "Move the billing test clock forward");
    op["description"] = std::string(clock_note) + " A move back is 400 invalid-field.";
    with_body(op, schema_ref("ClockUpdate"));
    op["responses"]["200"] = ok("The clocks after the move.", schema_ref("Clock"));
    op["responses"]["404"] = response_ref("NotFound");
    clock["post"] = op;
  }
  return p;
}

json operations_paths() {
  json p;
  {
    auto op = operation("operations", "getHealth", "Liveness of the server, its database and zooid", false);
    op["description"] = "Answers within 1 s even under load. zooid is the outcome of the latest zooid call or probe "
                        "(at most 30 s old; unknown before any).";
    op["responses"]["200"] = ok("Healthy.", schema_ref("Health"));
    op["responses"]["503"] = ok("The database is not answering (status degraded).", schema_ref("Health"));
    p["/healthz"]["get"] = op;
  }
  {
    auto op = operation("operations", "getOpenApi", "This document", false);
    op["responses"]["200"] = {{"description", "The OpenAPI 3.1 description of this API."},
                              {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
    p["/openapi.json"]["get"] = op;
  }
  return p;
}

json document(std::string_view public_url) {
  json doc;
  doc["openapi"] = "3.1.0";
  doc["info"] = {
    {"title", "relayhost API"},
    {"version", RELAYHOST_VERSION},
    {"description",
     "The REST API of a Nostr relay hosting platform: tenants (Nostr pubkeys) create and manage hosted relays; "
     "admins oversee tenants, relays, invoices and the audit log. JSON in and out; times are unix seconds; amounts "
     "are whole sats; errors are {\"error\", \"code\"[, \"field\"]}. Lists are paginated with ?limit= and ?cursor=. "
     "Unknown fields in a body are rejected (invalid-field). Request bodies are limited to 64 KiB. Every /tenant and "
     "/admin route needs NIP-98 authentication; /admin routes also need the caller's pubkey in "
     "HOSTING_ADMIN_PUBKEYS. Prometheus metrics are served on a separate listener (METRICS_ADDR), not here."}};
  doc["servers"] = json::array({{{"url", public_url.empty() ? std::string("/") : std::string(public_url)}}});
  doc["tags"] = json::array({{{"name", "tenant"}, {"description", "The caller is the tenant."}},
                             {{"name", "admin"}, {"description", "The caller must be an admin."}},
                             {{"name", "operations"}, {"description", "No authentication."}}});
  json paths = json::object();
  for (auto part : {tenant_paths(), admin_paths(), operations_paths()})
    for (auto& [path, item] : part.items())
      paths[path] = item;
  doc["paths"] = std::move(paths);
  doc["components"]["schemas"] = schemas();
  doc["components"]["responses"] = responses();
  doc["components"]["parameters"] = parameters();
  doc["components"]["securitySchemes"]["nip98"] = {
    {"type", "http"},
    {"scheme", "Nostr"},
    {"description",
     "NIP-98 HTTP Auth: `Authorization: Nostr <base64 of a signed kind-27235 event>` (scheme case-insensitive). "
     "The event's `u` tag is PUBLIC_URL + path + query exactly as sent, its `method` tag the request method, an "
     "optional `payload` tag the hex SHA-256 of the body; created_at within ±60 s. A write's event id is accepted "
     "once (add a varying tag, e.g. nonce, to repeat a write). The token is signed per request, so it cannot be "
     "pasted once and reused. The authenticated pubkey is the event's pubkey."}};
  return doc;
}

} // namespace

std::string openapi_catalog(std::string_view public_url) {
  return document(public_url).dump();
}

std::string openapi_document(const std::vector<http::route_info>& served, std::string_view public_url) {
  auto doc = document(public_url);
  std::set<std::pair<std::string, std::string>> routed;  // (lowercase method, OpenAPI path)
  for (auto& r : served) {
    std::string method = r.method;
    for (auto& c : method)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    routed.emplace(std::move(method), openapi_path(r.templ));
  }
  json paths = json::object();
  for (auto& [path, item] : doc["paths"].items()) {
    json kept = json::object();
    for (auto& [key, value] : item.items()) {
      bool is_operation = key == "get" || key == "put" || key == "post" || key == "delete" || key == "patch" ||
                          key == "head" || key == "options" || key == "trace";
      if (!is_operation || routed.count({key, path}))
        kept[key] = value;
    }
    bool has_operation = false;
    for (auto& [key, value] : kept.items())
      has_operation = has_operation || (key != "parameters" && key != "summary" && key != "description");
    if (has_operation)
      paths[path] = std::move(kept);
  }
  doc["paths"] = std::move(paths);
  return doc.dump();
}

std::string openapi_path(std::string_view router_template) {
  std::string out;
  out.reserve(router_template.size() + 4);
  size_t i = 0;
  while (i < router_template.size()) {
    auto end = router_template.find('/', i + 1);
    if (end == std::string_view::npos)
      end = router_template.size();
    auto segment = router_template.substr(i, end - i);  // "/x" or "/:x"
    if (segment.size() > 1 && segment[1] == ':') {
      out += "/{";
      out += segment.substr(2);
      out += '}';
    } else {
      out += segment;
    }
    i = end;
  }
  return out;
}

void add_openapi_route(http::router& r, std::string_view public_url) {
  // Registered first so the document lists itself; filled before the server
  // starts (routes are built before any request is served).
  auto body = std::make_shared<std::string>();
  r.add("GET", "/openapi.json", http::auth_mode::none, [body](http::api_request&&, http::responder respond) {
    respond(http::api_response::json(200, *body));
  });
  *body = openapi_document(r.routes(), public_url);
}

} // namespace relayhost
