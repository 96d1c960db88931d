// What a wallet's answer to get_info means for relayhost: the platform wallet must
// be able to make and look up invoices (else billing is disabled), a tenant's
// wallet must be able to pay them, on the platform's network. Pure: the NWC
// client actor produces the nwc_result, these rules read it.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

namespace relayhost {

/// The outcome of one NIP-47 request (actors/nwc_client.hpp).
struct nwc_result {
  enum kind_t : uint8_t {
    ok,            // a trusted answer with a result
    wallet_error,  // a trusted answer with a NIP-47 error (`code`)
    unknown,       // sent, no trusted answer in time: the wallet may have acted
    not_sent,      // no relay took it, or the wallet's info could not be read
  };
  kind_t kind = not_sent;
  std::string code;         // wallet_error: "RATE_LIMITED", "PAYMENT_FAILED", …
  std::string message;      // the wallet's message, or why unknown / not_sent
  std::string result_json;  // ok: the `result` object
  std::string request_id;   // the kind-23194 event id ("" when none was built)
};
const char* to_string(nwc_result::kind_t k);

/// get_info's result, as far as relayhost reads it.
struct wallet_info {
  std::set<std::string> methods;
  std::optional<std::string> network;  // "mainnet", "testnet", "signet", "regtest"; absent: not said
  std::string alias;
};
/// nullopt when `result_json` is not an object with a `methods` array of strings.
std::optional<wallet_info> parse_get_info(const std::string& result_json);

/// A tenant's wallet after its get_info probe: "ok", or "error: <reason>" with the
/// reason one of: unreachable (…), timed out (…), the wallet refused get_info (…),
/// pay_invoice is not among the wallet's methods, wrong network (…). The network is
/// compared only when both the wallet and the platform say theirs.
std::string tenant_wallet_status(const nwc_result& probe, const std::optional<std::string>& platform_network);

/// The platform wallet after its get_info probe at start.
struct platform_wallet_check {
  bool enabled = false;
  bool definite = false;  // the wallet answered (a retry will not change it soon)
  std::string reason;     // why billing is disabled ("" when enabled)
  std::optional<std::string> network;
  std::string alias;
};
platform_wallet_check check_platform_wallet(const nwc_result& probe);

} // namespace relayhost
