#include "domain/wallet_check.hpp"

#include <nlohmann/json.hpp>

namespace relayhost {

using json = nlohmann::json;

const char* to_string(nwc_result::kind_t k) {
  switch (k) {
    case nwc_result::ok: return "ok";
    case nwc_result::wallet_error: return "wallet_error";
    case nwc_result::unknown: return "unknown";
    case nwc_result::not_sent: return "not_sent";
  }
  return "not_sent";
}

std::optional<wallet_info> parse_get_info(const std::string& result_json) {
  auto j = json::parse(result_json, nullptr, false);
  if (!j.is_object())
    return std::nullopt;
  auto m = j.find("methods");
  if (m == j.end() || !m->is_array())
    return std::nullopt;
  wallet_info info;
  for (auto& x : *m) {
    if (!x.is_string())
      return std::nullopt;
    info.methods.insert(x.get<std::string>());
  }
  if (auto n = j.find("network"); n != j.end() && n->is_string() && !n->get_ref<const std::string&>().empty())
    info.network = n->get<std::string>();
  if (auto a = j.find("alias"); a != j.end() && a->is_string())
    info.alias = a->get<std::string>();
  return info;
}

namespace {

/// What a wallet or relay said, kept short: it is shown to the tenant and logged.
std::string clip(const std::string& text) {
  constexpr size_t max_bytes = 200;
  if (text.size() <= max_bytes)
    return text;
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80)
    --n;  // not in the middle of a UTF-8 sequence
  return text.substr(0, n) + "…";
}

/// Why a get_info probe did not yield a usable answer ("" when it did).
std::string failure(const nwc_result& probe) {
  switch (probe.kind) {
    case nwc_result::ok: return "";
    case nwc_result::not_sent: return "unreachable (" + clip(probe.message) + ")";
    case nwc_result::unknown: return "timed out (" + clip(probe.message) + ")";
    case nwc_result::wallet_error:
      return "the wallet refused get_info (" + probe.code + (probe.message.empty() ? "" : ": " + clip(probe.message)) +
             ")";
  }
  return "unreachable";
}

} // namespace

std::string tenant_wallet_status(const nwc_result& probe, const std::optional<std::string>& platform_network) {
  if (auto why = failure(probe); !why.empty())
    return "error: " + why;
  auto info = parse_get_info(probe.result_json);
  if (!info)
    return "error: the wallet's get_info answer has no list of methods";
  if (!info->methods.count("pay_invoice"))
    return "error: pay_invoice is not among the wallet's methods";
  if (info->network && platform_network && *info->network != *platform_network)
    return "error: wrong network (the wallet is on " + *info->network + ", the platform on " + *platform_network + ")";
  return "ok";
}

platform_wallet_check check_platform_wallet(const nwc_result& probe) {
  platform_wallet_check c;
  if (probe.kind != nwc_result::ok) {
    // "unreachable (…)", "timed out (…)", "the wallet refused get_info (…)"
    auto why = failure(probe);
    if (why.rfind("the wallet ", 0) == 0)
      c.reason = "the platform wallet " + why.substr(11);
    else if (probe.kind == nwc_result::unknown)
      c.reason = "the platform wallet " + why;
    else
      c.reason = "the platform wallet is " + why;
    c.definite = probe.kind == nwc_result::wallet_error;
    return c;
  }
  auto info = parse_get_info(probe.result_json);
  c.definite = true;
  if (!info) {
    c.reason = "the platform wallet's get_info answer has no list of methods";
    return c;
  }
  c.network = info->network;
  c.alias = info->alias;
  std::string missing;
  for (auto* m : {"make_invoice", "lookup_invoice"})
    if (!info->methods.count(m))
      missing += std::string(missing.empty() ? "" : " and ") + m;
  if (!missing.empty()) {
    c.reason = "the platform wallet lacks " + missing;
    return c;
  }
  c.enabled = true;
  return c;
}

} // namespace relayhost
