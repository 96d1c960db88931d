#include "domain/zooid_config.hpp"

#include <nlohmann/json.hpp>

#include "nostr/event.hpp"
#include "nostr/sha256.hpp"

namespace relayhost {

using json = nlohmann::json;

namespace {

bool paid(const relay& r, const zooid_context& ctx) {
  auto* p = find_plan(ctx.plans, r.plan);
  return p && p->paid();
}

std::string error_field(std::string_view body) {
  auto j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string())
    return j["error"].get<std::string>();
  return {};
}

} // namespace

json zooid_desired_config(const relay& r, const zooid_context& ctx) {
  std::string host = r.subdomain + "." + ctx.relay_domain;
  json info{{"name", r.name}, {"pubkey", r.tenant}, {"description", r.description}};
  // A PATCH's null deletes the key in zooid: no icon is no key.
  info["icon"] = r.icon ? json(*r.icon) : json(nullptr);
  return json{
    {"host", host},
    {"schema", schema_for_subdomain(r.subdomain)},
    {"inactive", r.status != relay_status::active},
    {"info", std::move(info)},
    {"policy", {{"public_join", r.policy.public_join}, {"strip_signatures", r.policy.strip_signatures}}},
    {"groups", {{"enabled", true}}},
    {"push", {{"enabled", true}}},
    {"management", {{"enabled", true}}},
    {"blossom", {{"enabled", paid(r, ctx)}}},
    {"roles", {{"admin", {{"pubkeys", ctx.admin_pubkeys}, {"can_invite", false}, {"can_manage", true}}}}},
  };
}

json zooid_create_body(const relay& r, const zooid_context& ctx, const std::string& secret_hex) {
  auto j = zooid_desired_config(r, ctx);
  j["secret"] = secret_hex;
  if (j["info"]["icon"].is_null())
    j["info"].erase("icon");
  j["roles"]["member"] = {{"pubkeys", json::array()}, {"can_invite", true}, {"can_manage", false}};
  return j;
}

namespace {

// The bytes nlohmann's dump() writes for zooid_desired_config / zooid_create_body:
// no whitespace, object keys in std::map order (sorted), strings escaped as
// append_json_string does (the same escapes as dump() with ensure_ascii off).
// The zooid_config suite checks both against the JSON-tree versions.
void append_config(std::string& out, const relay& r, const zooid_context& ctx, const std::string* secret) {
  using nostr::append_json_string;
  const bool create = secret != nullptr;
  auto boolean = [&](bool b) { out += b ? "true" : "false"; };
  out += R"({"blossom":{"enabled":)";
  boolean(paid(r, ctx));
  out += R"(},"groups":{"enabled":true},"host":)";
  append_json_string(out, r.subdomain + "." + ctx.relay_domain);
  out += R"(,"inactive":)";
  boolean(r.status != relay_status::active);
  out += R"(,"info":{"description":)";
  append_json_string(out, r.description);
  if (r.icon) {
    out += R"(,"icon":)";
    append_json_string(out, *r.icon);
  } else if (!create) {
    out += R"(,"icon":null)";  // a PATCH's null deletes the key in zooid
  }
  out += R"(,"name":)";
  append_json_string(out, r.name);
  out += R"(,"pubkey":)";
  append_json_string(out, r.tenant);
  out += R"(},"management":{"enabled":true},"policy":{"public_join":)";
  boolean(r.policy.public_join);
  out += R"(,"strip_signatures":)";
  boolean(r.policy.strip_signatures);
  out += R"(},"push":{"enabled":true},"roles":{"admin":{"can_invite":false,"can_manage":true,"pubkeys":[)";
  for (size_t i = 0; i < ctx.admin_pubkeys.size(); ++i) {
    if (i > 0)
      out += ',';
    append_json_string(out, ctx.admin_pubkeys[i]);
  }
  out += "]}";
  if (create)
    out += R"(,"member":{"can_invite":true,"can_manage":false,"pubkeys":[]})";
  out += R"(},"schema":)";
  append_json_string(out, schema_for_subdomain(r.subdomain));
  if (create) {
    out += R"(,"secret":)";
    append_json_string(out, *secret);
  }
  out += '}';
}

} // namespace

std::string zooid_desired_config_json(const relay& r, const zooid_context& ctx) {
  std::string out;
  out.reserve(512 + r.name.size() + r.description.size() + (r.icon ? r.icon->size() : 0) +
              80 * ctx.admin_pubkeys.size());
  append_config(out, r, ctx, nullptr);
  return out;
}

std::string zooid_create_body_json(const relay& r, const zooid_context& ctx, const std::string& secret_hex) {
  std::string out;
  out.reserve(640 + r.name.size() + r.description.size() + (r.icon ? r.icon->size() : 0) +
              80 * ctx.admin_pubkeys.size());
  append_config(out, r, ctx, &secret_hex);
  return out;
}

std::string zooid_fingerprint(const relay& r, const zooid_context& ctx) {
  return nostr::sha256_hex(zooid_desired_config_json(r, ctx));
}

std::chrono::seconds zooid_backoff(int64_t attempt, std::chrono::seconds base, std::chrono::seconds max) {
  if (attempt < 1)
    attempt = 1;
  auto delay = base;
  for (int64_t i = 1; i < attempt && delay < max; ++i)
    delay *= 2;
  return delay < max ? delay : max;
}

zooid_outcome classify_zooid_answer(std::string_view method, int status, std::string_view body) {
  if (status >= 200 && status < 300)
    return zooid_outcome::ok;
  if (status == 0 || status >= 500)
    return zooid_outcome::transient;
  if (status == 409 && method == "POST" && error_field(body).find("already exists") != std::string::npos)
    return zooid_outcome::already_exists;
  if (status == 404 && method == "PATCH")
    return zooid_outcome::not_found;
  // 408/429 are the server asking to come back later.
  if (status == 408 || status == 429)
    return zooid_outcome::transient;
  return zooid_outcome::rejected;
}

std::string zooid_error_text(int status, std::string_view body, std::string_view transport_error) {
  if (status == 0)
    return "zooid unreachable: " + std::string(transport_error);
  auto e = error_field(body);
  // Messages that can carry a secret (zooid echoes an invalid secret key) are cut at the colon.
  if (e.rfind("invalid secret key", 0) == 0)
    e = "invalid secret key";
  if (e.size() > 200 || e.empty())
    return "zooid answered " + std::to_string(status);
  return "zooid answered " + std::to_string(status) + ": " + e;
}

} // namespace relayhost
