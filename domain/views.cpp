#include "domain/views.hpp"

#include <cstdio>
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

// nlohmann's dump escapes valid UTF-8 as JSON.stringify does, which is what NIP-01
// serialization (nostr::append_json_string) implements. Invalid UTF-8, which a JSON
// parse keeps out of every field, goes through nlohmann itself: replaced as dump does.
void append_string(std::string& out, std::string_view s) {
  const auto mark = out.size();
  try {
    nostr::append_json_string(out, s);
  } catch (const std::invalid_argument&) {
    out.resize(mark);
    out += nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  int n = std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  out.append(buf, static_cast<size_t>(n));
}

void append_opt_string(std::string& out, const std::optional<std::string>& s) {
  if (s)
    append_string(out, *s);
  else
    out += "null";
}

void append_host(std::string& out, std::string_view scheme, const relay& r, std::string_view relay_domain) {
  std::string host;
  host.reserve(scheme.size() + r.subdomain.size() + 1 + relay_domain.size());
  host.append(scheme).append(r.subdomain).append(1, '.').append(relay_domain);
  append_string(out, host);
}

} // namespace

// Keys in the order relay_to_json's object dumps them (nlohmann sorts keys).
void append_relay_json(std::string& out, const relay& r, std::string_view relay_domain) {
  out += "{\"created_at\":";
  append_int(out, r.created_at);
  out += ",\"description\":";
  append_string(out, r.description);
  out += ",\"host\":";
  append_host(out, "", r, relay_domain);
  out += ",\"icon\":";
  append_opt_string(out, r.icon);
  out += ",\"id\":";
  append_string(out, r.id);
  out += ",\"name\":";
  append_string(out, r.name);
  out += ",\"plan\":";
  append_string(out, r.plan);
  out += ",\"policy\":{\"public_join\":";
  out += r.policy.public_join ? "true" : "false";
  out += ",\"strip_signatures\":";
  out += r.policy.strip_signatures ? "true" : "false";
  out += "},\"status\":";
  append_string(out, to_string(r.status));
  out += ",\"subdomain\":";
  append_string(out, r.subdomain);
  out += ",\"sync\":{\"attempts\":";
  append_int(out, r.sync.attempts);
  out += ",\"error\":";
  append_opt_string(out, r.sync.error);
  out += ",\"last_attempt_at\":";
  if (r.sync.last_attempt_at)
    append_int(out, *r.sync.last_attempt_at);
  else
    out += "null";
  out += ",\"state\":";
  append_string(out, to_string(r.sync.state));
  out += "},\"tenant\":";
  append_string(out, r.tenant);
  out += ",\"updated_at\":";
  append_int(out, r.updated_at);
  out += ",\"url\":";
  append_host(out, "wss://", r, relay_domain);
  out += '}';
}

std::string relay_json(const relay& r, std::string_view relay_domain) {
  std::string out;
  out.reserve(448 + r.name.size() + r.description.size() + (r.icon ? r.icon->size() : 0));
  append_relay_json(out, r, relay_domain);
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
