#include "domain/zooid_config.hpp"

#include <nlohmann/json.hpp>

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

std::string zooid_fingerprint(const relay& r, const zooid_context& ctx) {
  return nostr::sha256_hex(zooid_desired_config(r, ctx).dump());
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
