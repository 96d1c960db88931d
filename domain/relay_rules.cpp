#include "domain/relay_rules.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace relayhost {

namespace {

using json = nlohmann::json;

constexpr size_t subdomain_min = 3;
constexpr size_t subdomain_max = 63;
constexpr size_t name_max = 64;
constexpr size_t description_max = 500;
constexpr size_t icon_max = 500;
constexpr size_t reason_max = 500;

// api.md's built-in reserved names.
const char* const builtin_reserved[] = {"www",   "api",   "admin",  "app",     "mail",   "smtp",
                                        "ftp",   "ns",    "ns1",    "ns2",     "relay",  "relays",
                                        "status", "billing", "docs", "static", "cdn"};

api_error field_error(std::string field, std::string message) {
  return api_error::invalid_field(std::move(field), std::move(message));
}

std::variant<json, api_error> parse_object(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded())
    return api_error{errc::invalid_json, "the body is not valid JSON", {}};
  if (!j.is_object())
    return api_error{errc::invalid_json, "the body must be a JSON object", {}};
  return j;
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

std::optional<api_error> text_field(const json& v, const std::string& field, size_t min, size_t max,
                                    bool single_line, std::string& out) {
  if (!v.is_string())
    return field_error(field, field + " must be a string");
  const auto& s = v.get_ref<const std::string&>();
  auto len = utf8_length(s);
  if (!len)
    return field_error(field, field + " is not valid UTF-8");
  if (*len < min || *len > max)
    return field_error(field, field + " must be " + std::to_string(min) + "-" + std::to_string(max) + " characters");
  if (single_line && has_control(s))
    return field_error(field, field + " must not contain control characters");
  out = s;
  return std::nullopt;
}

std::optional<api_error> icon_field(const json& v, std::optional<std::string>& out) {
  if (v.is_null()) {
    out.reset();
    return std::nullopt;
  }
  std::string s;
  if (auto e = text_field(v, "icon", 9, icon_max, true, s))
    return e;
  if (s.rfind("https://", 0) != 0 || s.size() <= 8 || s.find(' ') != std::string::npos)
    return field_error("icon", "icon must be an https:// URL");
  out = std::move(s);
  return std::nullopt;
}

std::optional<api_error> plan_field(const json& v, const relay_rules& rules, std::string& out) {
  if (!v.is_string() || !find_plan(rules.plans, v.get_ref<const std::string&>())) {
    std::string ids;
    for (auto& p : rules.plans)
      ids += (ids.empty() ? "" : ", ") + p.id;
    return field_error("plan", "plan must be one of: " + ids);
  }
  out = v.get<std::string>();
  return std::nullopt;
}

std::optional<api_error> policy_field(const json& v, std::optional<bool>& public_join,
                                      std::optional<bool>& strip_signatures) {
  if (!v.is_object())
    return field_error("policy", "policy must be an object");
  for (auto& [k, x] : v.items()) {
    if (k == "public_join" || k == "strip_signatures") {
      if (!x.is_boolean())
        return field_error("policy." + k, "policy." + k + " must be true or false");
      (k == "public_join" ? public_join : strip_signatures) = x.get<bool>();
    } else {
      return field_error("policy." + k, "unknown field policy." + k);
    }
  }
  return std::nullopt;
}

} // namespace

std::optional<size_t> utf8_length(std::string_view s) {
  size_t count = 0;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) { n = 1; cp = c; }
    else if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; }
    else return std::nullopt;
    if (i + n > s.size())
      return std::nullopt;
    for (size_t k = 1; k < n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80)
        return std::nullopt;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return std::nullopt;
    i += n;
    ++count;
  }
  return count;
}

std::optional<api_error> check_subdomain(std::string_view s, const relay_rules& rules) {
  auto bad = [](std::string m) { return field_error("subdomain", std::move(m)); };
  if (s.size() < subdomain_min || s.size() > subdomain_max)
    return bad("subdomain must be 3-63 characters");
  if (!(s.front() >= 'a' && s.front() <= 'z'))
    return bad("subdomain must start with a lowercase letter");
  if (s.back() == '-')
    return bad("subdomain must not end with '-'");
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return bad("subdomain may contain only a-z, 0-9 and '-' (uppercase is not folded)");
  for (auto* r : builtin_reserved)
    if (s == r)
      return bad("subdomain \"" + std::string(s) + "\" is reserved");
  for (auto& r : rules.reserved_extra)
    if (s == r)
      return bad("subdomain \"" + std::string(s) + "\" is reserved");
  return std::nullopt;
}

std::variant<relay_create, api_error> parse_relay_create(std::string_view body, const relay_rules& rules) {
  auto parsed = parse_object(body);
  if (auto* e = std::get_if<api_error>(&parsed))
    return *e;
  auto& j = std::get<json>(parsed);
  relay_create out;
  bool have_subdomain = false, have_name = false, have_plan = false;
  std::optional<bool> public_join, strip;
  // Fields in a fixed order, so the error for a body with several problems is stable.
  for (auto& [k, v] : j.items()) {
    if (k != "subdomain" && k != "name" && k != "plan" && k != "description" && k != "icon" && k != "policy")
      return field_error(k, "unknown field " + k);
  }
  if (auto it = j.find("subdomain"); it != j.end()) {
    if (!it->is_string())
      return field_error("subdomain", "subdomain must be a string");
    out.subdomain = it->get<std::string>();
    if (auto e = check_subdomain(out.subdomain, rules))
      return *e;
    have_subdomain = true;
  }
  if (!have_subdomain)
    return field_error("subdomain", "subdomain is required");
  if (auto it = j.find("name"); it != j.end()) {
    if (auto e = text_field(*it, "name", 1, name_max, true, out.name))
      return *e;
    have_name = true;
  }
  if (!have_name)
    return field_error("name", "name is required");
  if (auto it = j.find("plan"); it != j.end()) {
    if (auto e = plan_field(*it, rules, out.plan))
      return *e;
    have_plan = true;
  }
  if (!have_plan)
    return field_error("plan", "plan is required");
  if (auto it = j.find("description"); it != j.end() && !it->is_null())
    if (auto e = text_field(*it, "description", 0, description_max, false, out.description))
      return *e;
  if (auto it = j.find("icon"); it != j.end())
    if (auto e = icon_field(*it, out.icon))
      return *e;
  if (auto it = j.find("policy"); it != j.end())
    if (auto e = policy_field(*it, public_join, strip))
      return *e;
  out.policy.public_join = public_join.value_or(false);
  out.policy.strip_signatures = strip.value_or(false);
  return out;
}

std::variant<relay_change, api_error> parse_relay_change(std::string_view body, const relay_rules& rules,
                                                         status_authority who) {
  auto parsed = parse_object(body);
  if (auto* e = std::get_if<api_error>(&parsed))
    return *e;
  auto& j = std::get<json>(parsed);
  relay_change out;
  for (auto& [k, v] : j.items()) {
    bool known = k == "subdomain" || k == "name" || k == "description" || k == "icon" || k == "plan" ||
                 k == "policy" || k == "status" || (who == status_authority::admin && k == "reason");
    if (!known)
      return field_error(k, "unknown field " + k);
  }
  if (auto it = j.find("subdomain"); it != j.end()) {
    if (!it->is_string())
      return field_error("subdomain", "subdomain must be a string");
    out.subdomain = it->get<std::string>();
  }
  if (auto it = j.find("name"); it != j.end()) {
    std::string s;
    if (auto e = text_field(*it, "name", 1, name_max, true, s))
      return *e;
    out.name = std::move(s);
  }
  if (auto it = j.find("description"); it != j.end()) {
    std::string s;
    if (!it->is_null())
      if (auto e = text_field(*it, "description", 0, description_max, false, s))
        return *e;
    out.description = std::move(s);
  }
  if (auto it = j.find("icon"); it != j.end()) {
    std::optional<std::string> icon;
    if (auto e = icon_field(*it, icon))
      return *e;
    out.icon = std::move(icon);
  }
  if (auto it = j.find("plan"); it != j.end()) {
    std::string p;
    if (auto e = plan_field(*it, rules, p))
      return *e;
    out.plan = std::move(p);
  }
  if (auto it = j.find("policy"); it != j.end())
    if (auto e = policy_field(*it, out.public_join, out.strip_signatures))
      return *e;
  if (auto it = j.find("status"); it != j.end()) {
    auto st = it->is_string() ? parse_relay_status(it->get_ref<const std::string&>()) : std::nullopt;
    if (!st)
      return field_error("status", "status must be active or inactive");
    if (*st == relay_status::delinquent)
      return api_error{errc::forbidden, "delinquency is set by billing, not by a request", {}};
    if (*st == relay_status::suspended && who == status_authority::tenant)
      return api_error{errc::forbidden, "only an admin can suspend a relay", {}};
    out.status = st;
  }
  if (auto it = j.find("reason"); it != j.end()) {
    std::string s;
    if (auto e = text_field(*it, "reason", 1, reason_max, false, s))
      return *e;
    out.reason = std::move(s);
  }
  return out;
}

std::string schema_for_subdomain(std::string_view subdomain) {
  std::string out(subdomain);
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

} // namespace relayhost
