#include "domain/views.hpp"

#include <nlohmann/json.hpp>

namespace relayhost {

void relay_to_json(const relay& r, std::string_view relay_domain, nlohmann::json& out) {
  using nlohmann::json;
  std::string host = r.subdomain + "." + std::string(relay_domain);
  out = json{
    {"id", r.id},
    {"tenant", r.tenant},
    {"subdomain", r.subdomain},
    {"host", host},
    {"url", "wss://" + host},
    {"name", r.name},
    {"description", r.description},
    {"icon", r.icon ? json(*r.icon) : json(nullptr)},
    {"plan", r.plan},
    {"policy", {{"public_join", r.policy.public_join}, {"strip_signatures", r.policy.strip_signatures}}},
    {"status", to_string(r.status)},
    {"sync",
     {{"state", to_string(r.sync.state)},
      {"error", r.sync.error ? json(*r.sync.error) : json(nullptr)},
      {"attempts", r.sync.attempts},
      {"last_attempt_at", r.sync.last_attempt_at ? json(*r.sync.last_attempt_at) : json(nullptr)}}},
    {"created_at", r.created_at},
    {"updated_at", r.updated_at},
  };
}

void tenant_to_json(const tenant& t, nlohmann::json& out) {
  using nlohmann::json;
  const auto& b = t.billing;
  out = json{
    {"pubkey", t.pubkey},
    {"status", to_string(t.status)},
    {"created_at", t.created_at},
    {"billing",
     {{"nwc_connected", b.connected()},
      {"wallet_pubkey", b.wallet_pubkey ? json(*b.wallet_pubkey) : json(nullptr)},
      {"nwc_status", b.nwc_status ? json(*b.nwc_status) : json(nullptr)},
      {"anchor", b.anchor ? json(*b.anchor) : json(nullptr)},
      {"balance_due_sats", b.balance_due_sats}}},
  };
}

void relay_to_admin_json(const relay& r, std::string_view relay_domain, nlohmann::json& out) {
  relay_to_json(r, relay_domain, out);
  out["suspended_by"] = r.suspended_by ? nlohmann::json(*r.suspended_by) : nlohmann::json(nullptr);
  out["suspend_reason"] = r.suspend_reason ? nlohmann::json(*r.suspend_reason) : nlohmann::json(nullptr);
}

void tenant_to_admin_json(const tenant& t, nlohmann::json& out) {
  tenant_to_json(t, out);
  out["suspend_reason"] = t.suspend_reason ? nlohmann::json(*t.suspend_reason) : nlohmann::json(nullptr);
  out["suspended_at"] = t.suspended_at ? nlohmann::json(*t.suspended_at) : nlohmann::json(nullptr);
}

void audit_to_json(const audit_entry& a, nlohmann::json& out) {
  using nlohmann::json;
  auto embed = [](const std::optional<std::string>& s) {
    return s ? json::parse(*s, nullptr, false) : json(nullptr);
  };
  out = json{{"id", a.id},
             {"at", a.at},
             {"admin", a.admin},
             {"action", a.action},
             {"target_type", a.target_type},
             {"target_id", a.target_id},
             {"reason", a.reason ? json(*a.reason) : json(nullptr)},
             {"before", embed(a.before_json)},
             {"after", embed(a.after_json)}};
}

} // namespace relayhost
