// What get_info answers mean: the platform wallet must make and look up invoices,
// a tenant's wallet must pay them on the platform's network; every failure is a
// status naming its reason, and what a wallet says is kept short.
#undef CAF_SUITE
#define CAF_SUITE domain_wallet_check
#include <caf/test/unit_test.hpp>

#include "domain/wallet_check.hpp"

using namespace relayhost;

namespace {

nwc_result answered(std::string result_json) {
  nwc_result r;
  r.kind = nwc_result::ok;
  r.result_json = std::move(result_json);
  return r;
}

nwc_result failed(nwc_result::kind_t kind, std::string message, std::string code = "") {
  nwc_result r;
  r.kind = kind;
  r.message = std::move(message);
  r.code = std::move(code);
  return r;
}

const std::optional<std::string> mainnet = std::string("mainnet");

} // namespace

CAF_TEST(get_info results are read strictly) {
  auto info = parse_get_info(R"({"alias":"w","network":"mainnet","methods":["pay_invoice","get_info"]})");
  CAF_REQUIRE(info);
  CAF_CHECK_EQUAL(info->methods.size(), 2u);
  CAF_CHECK(info->methods.count("pay_invoice") == 1);
  CAF_CHECK(info->network == mainnet);
  CAF_CHECK_EQUAL(info->alias, "w");
  auto no_network = parse_get_info(R"({"methods":[]})");
  CAF_REQUIRE(no_network);
  CAF_CHECK(!no_network->network);
  for (auto bad : {"", "[]", "{}", R"({"methods":"pay_invoice"})", R"({"methods":[1]})", "null", "{\"methods\":["})
    CAF_CHECK(!parse_get_info(bad));
}

CAF_TEST(a tenant wallet that can pay on the platform network is ok) {
  CAF_CHECK_EQUAL(tenant_wallet_status(answered(R"({"network":"mainnet","methods":["pay_invoice"]})"), mainnet), "ok");
  // Either side silent about its network: not compared.
  CAF_CHECK_EQUAL(tenant_wallet_status(answered(R"({"methods":["pay_invoice"]})"), mainnet), "ok");
  CAF_CHECK_EQUAL(tenant_wallet_status(answered(R"({"network":"signet","methods":["pay_invoice"]})"), std::nullopt),
                  "ok");
}

CAF_TEST(every way a tenant wallet falls short has its reason) {
  CAF_CHECK_EQUAL(tenant_wallet_status(answered(R"({"network":"mainnet","methods":["get_info","make_invoice"]})"),
                                       mainnet),
                  "error: pay_invoice is not among the wallet's methods");
  CAF_CHECK_EQUAL(tenant_wallet_status(answered(R"({"network":"testnet","methods":["pay_invoice"]})"), mainnet),
                  "error: wrong network (the wallet is on testnet, the platform on mainnet)");
  CAF_CHECK_EQUAL(tenant_wallet_status(answered(R"({"alias":"x"})"), mainnet),
                  "error: the wallet's get_info answer has no list of methods");
  CAF_CHECK_EQUAL(tenant_wallet_status(failed(nwc_result::not_sent, "wss://r.example: connection refused"), mainnet),
                  "error: unreachable (wss://r.example: connection refused)");
  CAF_CHECK_EQUAL(tenant_wallet_status(failed(nwc_result::unknown, "no answer from the wallet within 60 s"), mainnet),
                  "error: timed out (no answer from the wallet within 60 s)");
  CAF_CHECK_EQUAL(tenant_wallet_status(failed(nwc_result::wallet_error, "not for you", "RESTRICTED"), mainnet),
                  "error: the wallet refused get_info (RESTRICTED: not for you)");
  CAF_CHECK_EQUAL(tenant_wallet_status(failed(nwc_result::wallet_error, "", "UNAUTHORIZED"), mainnet),
                  "error: the wallet refused get_info (UNAUTHORIZED)");
}

CAF_TEST(what a wallet says is clipped without splitting a character) {
  std::string long_text(199, 'a');
  long_text += "\xC3\xA9";  // é across the 200-byte mark
  long_text += std::string(500, 'b');
  auto status = tenant_wallet_status(failed(nwc_result::wallet_error, long_text, "OTHER"), mainnet);
  CAF_CHECK_EQUAL(status, "error: the wallet refused get_info (OTHER: " + std::string(199, 'a') + "…)");
}

CAF_TEST(the platform wallet enables billing only with make_invoice and lookup_invoice) {
  auto ok = check_platform_wallet(
    answered(R"({"alias":"platform","network":"regtest","methods":["make_invoice","lookup_invoice","get_info"]})"));
  CAF_CHECK(ok.enabled);
  CAF_CHECK(ok.definite);
  CAF_CHECK(ok.reason.empty());
  CAF_CHECK(ok.network == std::optional<std::string>("regtest"));
  CAF_CHECK_EQUAL(ok.alias, "platform");

  auto no_lookup = check_platform_wallet(answered(R"({"methods":["make_invoice","pay_invoice"]})"));
  CAF_CHECK(!no_lookup.enabled);
  CAF_CHECK(no_lookup.definite);
  CAF_CHECK_EQUAL(no_lookup.reason, "the platform wallet lacks lookup_invoice");
  auto neither = check_platform_wallet(answered(R"({"methods":["pay_invoice"]})"));
  CAF_CHECK_EQUAL(neither.reason, "the platform wallet lacks make_invoice and lookup_invoice");
  auto no_list = check_platform_wallet(answered("{}"));
  CAF_CHECK(!no_list.enabled);
  CAF_CHECK_EQUAL(no_list.reason, "the platform wallet's get_info answer has no list of methods");
}

CAF_TEST(a platform wallet that did not answer is disabled for now and asked again) {
  auto down = check_platform_wallet(failed(nwc_result::not_sent, "the wallet's relays are unreachable"));
  CAF_CHECK(!down.enabled);
  CAF_CHECK(!down.definite);
  CAF_CHECK_EQUAL(down.reason, "the platform wallet is unreachable (the wallet's relays are unreachable)");
  auto slow = check_platform_wallet(failed(nwc_result::unknown, "no answer from the wallet within 60 s"));
  CAF_CHECK(!slow.definite);
  CAF_CHECK_EQUAL(slow.reason, "the platform wallet timed out (no answer from the wallet within 60 s)");
  auto refused = check_platform_wallet(failed(nwc_result::wallet_error, "no", "UNAUTHORIZED"));
  CAF_CHECK(refused.definite);
  CAF_CHECK_EQUAL(refused.reason, "the platform wallet refused get_info (UNAUTHORIZED: no)");
}

CAF_TEST(outcome kinds have stable names) {
  CAF_CHECK_EQUAL(std::string(to_string(nwc_result::ok)), "ok");
  CAF_CHECK_EQUAL(std::string(to_string(nwc_result::wallet_error)), "wallet_error");
  CAF_CHECK_EQUAL(std::string(to_string(nwc_result::unknown)), "unknown");
  CAF_CHECK_EQUAL(std::string(to_string(nwc_result::not_sent)), "not_sent");
}
