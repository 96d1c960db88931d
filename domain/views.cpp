#include "domain/views.hpp"

#include <charconv>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "nostr/event.hpp"

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

namespace {

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

void append_opt_string(std::string& out, const std::optional<std::string>& s) {
  if (s)
    nostr::append_json_string(out, *s);
  else
    out += "null";
}

// Keys in the order nlohmann's std::map-backed object dumps them (sorted); strings
// escaped as dump() escapes valid UTF-8 (append_json_string throws on invalid).
void append_relay(std::string& out, const relay& r, std::string_view relay_domain) {
  using nostr::append_json_string;
  std::string host = r.subdomain + "." + std::string(relay_domain);
  out += R"({"created_at":)";
  append_int(out, r.created_at);
  out += R"(,"description":)";
  append_json_string(out, r.description);
  out += R"(,"host":)";
  append_json_string(out, host);
  out += R"(,"icon":)";
  append_opt_string(out, r.icon);
  out += R"(,"id":)";
  append_json_string(out, r.id);
  out += R"(,"name":)";
  append_json_string(out, r.name);
  out += R"(,"plan":)";
  append_json_string(out, r.plan);
  out += R"(,"policy":{"public_join":)";
  out += r.policy.public_join ? "true" : "false";
  out += R"(,"strip_signatures":)";
  out += r.policy.strip_signatures ? "true" : "false";
  out += R"(},"status":)";
  append_json_string(out, to_string(r.status));
  out += R"(,"subdomain":)";
  append_json_string(out, r.subdomain);
  out += R"(,"sync":{"attempts":)";
  append_int(out, r.sync.attempts);
  out += R"(,"error":)";
  append_opt_string(out, r.sync.error);
  out += R"(,"last_attempt_at":)";
  if (r.sync.last_attempt_at)
    append_int(out, *r.sync.last_attempt_at);
  else
    out += "null";
  out += R"(,"state":)";
  append_json_string(out, to_string(r.sync.state));
  out += R"(},"tenant":)";
  append_json_string(out, r.tenant);
  out += R"(,"updated_at":)";
  append_int(out, r.updated_at);
  out += R"(,"url":)";
  append_json_string(out, "wss://" + host);
  out += '}';
}

} // namespace

std::string relay_json(const relay& r, std::string_view relay_domain) {
  std::string out;
  out.reserve(448 + r.name.size() + r.description.size() + (r.icon ? r.icon->size() : 0));
  try {
    append_relay(out, r, relay_domain);
  } catch (const std::invalid_argument&) {
    // Invalid UTF-8 (nothing the API lets in): dump's replacement characters.
    nlohmann::json j;
    relay_to_json(r, relay_domain, j);
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return out;
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
