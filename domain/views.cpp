#include "domain/views.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "domain/relay_rules.hpp"

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

// nlohmann's escaping with ensure_ascii off: '"', '\\' and the control characters;
// every other byte of valid UTF-8 as it is. Invalid UTF-8 (which a JSON parse keeps
// out of every field) goes through nlohmann itself, so it is replaced the same way.
void append_escaped(std::string& out, std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) {
      if (!utf8_length(s)) {
        auto quoted = nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        out.append(quoted, 1, quoted.size() - 2);
        return;
      }
      break;
    }
  size_t plain_from = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    out.append(s.data() + plain_from, i - plain_from);
    plain_from = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        static const char hex[] = "0123456789abcdef";
        const char buf[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        out.append(buf, 6);
      }
    }
  }
  out.append(s.data() + plain_from, s.size() - plain_from);
}

void append_string(std::string& out, std::string_view s) {
  out += '"';
  append_escaped(out, s);
  out += '"';
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  int n = std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  out.append(buf, static_cast<size_t>(n));
}

void append_host(std::string& out, std::string_view scheme, const relay& r, std::string_view relay_domain) {
  out += '"';
  out += scheme;
  append_escaped(out, r.subdomain);
  out += '.';
  append_escaped(out, relay_domain);
  out += '"';
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
  if (r.icon)
    append_string(out, *r.icon);
  else
    out += "null";
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
  if (r.sync.error)
    append_string(out, *r.sync.error);
  else
    out += "null";
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
