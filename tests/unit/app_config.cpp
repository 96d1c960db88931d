// Configuration from the environment: defaults, every accepted form, and one
// error naming the variable for each bad value.
#define CAF_SUITE app_config
#include <caf/test/unit_test.hpp>

#include <map>

#include "app/config.hpp"
#include "nostr/keys.hpp"

using namespace relayhost;

namespace {

using env_map = std::map<std::string, std::string>;

std::variant<config, config_error> load(const env_map& m) {
  return load_config([&](const char* name) -> std::optional<std::string> {
    auto it = m.find(name);
    if (it == m.end())
      return std::nullopt;
    return it->second;
  });
}

config ok(const env_map& m) {
  auto r = load(m);
  if (auto* e = std::get_if<config_error>(&r))
    CAF_FAIL("unexpected config error: " << e->line());
  return std::get<config>(r);
}

std::string bad(const env_map& m) {
  auto r = load(m);
  CAF_REQUIRE(std::holds_alternative<config_error>(r));
  return std::get<config_error>(r).variable;
}

} // namespace

CAF_TEST(defaults_are_those_of_architecture_md) {
  auto c = ok({});
  CAF_CHECK_EQUAL(c.database_path, "data/hosting.db");
  CAF_CHECK_EQUAL(c.listen.host, "127.0.0.1");
  CAF_CHECK_EQUAL(c.listen.port, 3000);
  CAF_CHECK_EQUAL(c.public_url, "http://127.0.0.1:3000");
  CAF_CHECK_EQUAL(c.zooid_api.host_header, "127.0.0.1:8032");
  CAF_CHECK_EQUAL(c.zooid_api.port, 8032);
  CAF_CHECK(!c.platform_secret_hex);
  CAF_CHECK_EQUAL(c.relay_domain, "spaces.coracle.social");
  CAF_CHECK(!c.nwc_url);
  CAF_CHECK(c.indexer_relays.empty());
  CAF_CHECK(c.admin_pubkeys.empty());
  CAF_REQUIRE_EQUAL(c.plans.size(), 3u);
  CAF_CHECK_EQUAL(c.plans[1].id, "basic");
  CAF_CHECK_EQUAL(c.plans[1].sats_per_month, 5000);
  CAF_CHECK_EQUAL(c.billing_grace_days, 7);
  CAF_CHECK(!c.billing_test_clock);
  CAF_CHECK_EQUAL(c.billing_tick_seconds, 60);
  CAF_CHECK_EQUAL(c.nwc_timeout_seconds, 60);
  CAF_CHECK_EQUAL(c.zooid_retry_base_seconds, 30);
  CAF_CHECK_EQUAL(c.zooid_retry_max_seconds, 900);
  CAF_CHECK_EQUAL(c.zooid_retry_limit, 6);
  CAF_CHECK_EQUAL(c.nip98_max_skew_seconds, 60);
  CAF_CHECK_EQUAL(c.zooid_timeout_seconds, 10);
  CAF_CHECK_EQUAL(c.invoice_expiry_seconds, 86400);
  CAF_CHECK_EQUAL(c.nwc_pay_retry_hours, 24);
  CAF_CHECK_EQUAL(c.payment_check_seconds, 60);
  CAF_CHECK_EQUAL(c.metrics.host, "127.0.0.1");
  CAF_CHECK_EQUAL(c.metrics.port, 9464);
  CAF_CHECK_EQUAL(c.log_level, "info");
  CAF_CHECK_EQUAL(c.log_format, "text");
}

CAF_TEST(accepted_forms) {
  auto key = nostr::secret_key::generate();
  auto pub = key.pubkey_hex();
  auto c = ok({{"DATABASE_URL", "/tmp/x/y.db"},
               {"PORT", "8080"},
               {"PUBLIC_URL", "https://hosting.example/"},
               {"ZOOID_API_URL", "http://zooid.internal:9000"},
               {"PLATFORM_SECRET", nostr::to_nsec(key)},
               {"HOSTING_ADMIN_PUBKEYS", nostr::to_npub(pub) + " , " + std::string(64, 'a')},
               {"PLANS", "free:0,pro:100"},
               {"NOSTR_INDEXER_RELAYS", "wss://a.example,ws://127.0.0.1:7777"},
               {"BILLING_TEST_CLOCK", "1"},
               {"LOG_FORMAT", "json"},
               {"RESERVED_SUBDOMAINS", "foo, bar"}});
  CAF_CHECK_EQUAL(c.database_path, "/tmp/x/y.db");
  CAF_CHECK_EQUAL(c.public_url, "https://hosting.example");
  CAF_CHECK_EQUAL(c.zooid_api.host_header, "zooid.internal:9000");
  CAF_CHECK_EQUAL(*c.platform_secret_hex, key.hex());
  CAF_REQUIRE_EQUAL(c.admin_pubkeys.size(), 2u);
  CAF_CHECK_EQUAL(c.admin_pubkeys[0], pub);
  CAF_CHECK_EQUAL(c.plans.size(), 2u);
  CAF_CHECK_EQUAL(c.indexer_relays.size(), 2u);
  CAF_CHECK(c.billing_test_clock);
  CAF_CHECK_EQUAL(c.reserved_subdomains.size(), 2u);
  CAF_CHECK_EQUAL(c.reserved_subdomains[1], "bar");
  // An empty variable means the default.
  CAF_CHECK_EQUAL(ok({{"PORT", ""}}).listen.port, 3000);
  CAF_CHECK_EQUAL(ok({{"PORT", "4000"}}).public_url, "http://127.0.0.1:4000");
}

CAF_TEST(each_bad_value_names_its_variable) {
  CAF_CHECK_EQUAL(bad({{"PORT", "abc"}}), "PORT");
  CAF_CHECK_EQUAL(bad({{"PORT", "0"}}), "PORT");
  CAF_CHECK_EQUAL(bad({{"PORT", "65536"}}), "PORT");
  CAF_CHECK_EQUAL(bad({{"HOST", "a b"}}), "HOST");
  CAF_CHECK_EQUAL(bad({{"DATABASE_URL", "mysql://x"}}), "DATABASE_URL");
  CAF_CHECK_EQUAL(bad({{"DATABASE_URL", "sqlite://"}}), "DATABASE_URL");
  CAF_CHECK_EQUAL(bad({{"PUBLIC_URL", "hosting.example"}}), "PUBLIC_URL");
  CAF_CHECK_EQUAL(bad({{"PUBLIC_URL", "https://x.example/?a=1"}}), "PUBLIC_URL");
  CAF_CHECK_EQUAL(bad({{"ZOOID_API_URL", "https://zooid:1"}}), "ZOOID_API_URL");
  CAF_CHECK_EQUAL(bad({{"ZOOID_API_URL", "http://zooid:99999"}}), "ZOOID_API_URL");
  CAF_CHECK_EQUAL(bad({{"PLATFORM_SECRET", std::string(64, 'z')}}), "PLATFORM_SECRET");
  CAF_CHECK_EQUAL(bad({{"PLATFORM_SECRET", std::string(64, '0')}}), "PLATFORM_SECRET");
  CAF_CHECK_EQUAL(bad({{"RELAY_DOMAIN", "localhost"}}), "RELAY_DOMAIN");
  CAF_CHECK_EQUAL(bad({{"NWC_URL", "nostr+walletconnect://abc"}}), "NWC_URL");
  CAF_CHECK_EQUAL(bad({{"NOSTR_INDEXER_RELAYS", "http://relay"}}), "NOSTR_INDEXER_RELAYS");
  CAF_CHECK_EQUAL(bad({{"HOSTING_ADMIN_PUBKEYS", "npub1xyz"}}), "HOSTING_ADMIN_PUBKEYS");
  CAF_CHECK_EQUAL(bad({{"PLATFORM_MESSAGING_RELAYS", "relay.example"}}), "PLATFORM_MESSAGING_RELAYS");
  for (auto* plans : {"", "free", "free:x", "free:-1", "Free:0", "a:1,a:2", "free:0,,basic:1", "free:1.5"})
    if (*plans)
      CAF_CHECK_EQUAL(bad({{"PLANS", plans}}), "PLANS");
  CAF_CHECK_EQUAL(bad({{"BILLING_GRACE_DAYS", "seven"}}), "BILLING_GRACE_DAYS");
  CAF_CHECK_EQUAL(bad({{"BILLING_TEST_CLOCK", "2"}}), "BILLING_TEST_CLOCK");
  CAF_CHECK_EQUAL(bad({{"BILLING_TICK_SECONDS", "0"}}), "BILLING_TICK_SECONDS");
  CAF_CHECK_EQUAL(bad({{"NWC_TIMEOUT_SECONDS", "1e3"}}), "NWC_TIMEOUT_SECONDS");
  CAF_CHECK_EQUAL(bad({{"ZOOID_RETRY_BASE_SECONDS", "100"}, {"ZOOID_RETRY_MAX_SECONDS", "50"}}),
                  "ZOOID_RETRY_MAX_SECONDS");
  CAF_CHECK_EQUAL(bad({{"ZOOID_RETRY_LIMIT", "0"}}), "ZOOID_RETRY_LIMIT");
  CAF_CHECK_EQUAL(bad({{"NIP98_MAX_SKEW_SECONDS", " 60"}}), "NIP98_MAX_SKEW_SECONDS");
  CAF_CHECK_EQUAL(bad({{"ZOOID_TIMEOUT_SECONDS", "-5"}}), "ZOOID_TIMEOUT_SECONDS");
  CAF_CHECK_EQUAL(bad({{"INVOICE_EXPIRY_SECONDS", "10"}}), "INVOICE_EXPIRY_SECONDS");
  CAF_CHECK_EQUAL(bad({{"NWC_PAY_RETRY_HOURS", "x"}}), "NWC_PAY_RETRY_HOURS");
  CAF_CHECK_EQUAL(bad({{"PAYMENT_CHECK_SECONDS", "0"}}), "PAYMENT_CHECK_SECONDS");
  CAF_CHECK_EQUAL(bad({{"METRICS_ADDR", "9464"}}), "METRICS_ADDR");
  CAF_CHECK_EQUAL(bad({{"LOG_LEVEL", "trace"}}), "LOG_LEVEL");
  CAF_CHECK_EQUAL(bad({{"LOG_FORMAT", "yaml"}}), "LOG_FORMAT");
  CAF_CHECK_EQUAL(bad({{"IO_THREADS", "0"}}), "IO_THREADS");
  CAF_CHECK_EQUAL(bad({{"ACTOR_THREADS", "65"}}), "ACTOR_THREADS");
  CAF_CHECK_EQUAL(bad({{"ACTOR_THREADS", "-1"}}), "ACTOR_THREADS");
}

CAF_TEST(secrets_are_not_echoed_in_errors) {
  std::string secret = std::string(63, 'f') + "g";
  auto r = load({{"PLATFORM_SECRET", secret}});
  CAF_REQUIRE(std::holds_alternative<config_error>(r));
  CAF_CHECK(std::get<config_error>(r).line().find(secret) == std::string::npos);
  std::string nwc = "nostr+walletconnect://" + std::string(64, 'a') + "?secret=" + std::string(64, 'b');
  auto n = load({{"NWC_URL", nwc}});
  CAF_REQUIRE(std::holds_alternative<config_error>(n));
  CAF_CHECK(std::get<config_error>(n).line().find(std::string(64, 'b')) == std::string::npos);
}

CAF_TEST(help_lists_every_variable) {
  auto h = help_text();
  for (auto* v : {"DATABASE_URL", "HOST", "PORT", "PUBLIC_URL", "ZOOID_API_URL", "PLATFORM_SECRET", "RELAY_DOMAIN",
                  "NWC_URL", "NOSTR_INDEXER_RELAYS", "HOSTING_ADMIN_PUBKEYS", "PLANS", "METRICS_ADDR", "LOG_FORMAT"})
    CAF_CHECK(h.find(v) != std::string::npos);
}
