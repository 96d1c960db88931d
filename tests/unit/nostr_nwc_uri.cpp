// NIP-47 connection URIs: what is accepted, what is refused, and that the
// secret is never part of an error message.
#define CAF_SUITE nostr_nwc_uri
#include <caf/test/unit_test.hpp>

#include "nostr/keys.hpp"
#include "nostr/nwc_uri.hpp"

using namespace relayhost::nostr;

namespace {
const std::string wallet = relayhost::nostr::secret_key::generate().pubkey_hex();
const std::string secret = "7c8a9d1e5f4b3a2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c";

std::string error_of(const std::string& uri) {
  std::string why;
  CAF_CHECK(!parse_nwc_uri(uri, &why));
  CAF_CHECK(why.find(secret) == std::string::npos);
  CAF_CHECK(!why.empty());
  return why;
}
} // namespace

CAF_TEST(accepted) {
  std::string why;
  auto u = parse_nwc_uri("nostr+walletconnect://" + wallet + "?relay=wss%3A%2F%2Frelay.one&relay=wss://relay.two/x"
                         "&secret=" + secret + "&lud16=me%40example.com&extra=1",
                         &why);
  CAF_REQUIRE(u.has_value());
  CAF_CHECK_EQUAL(u->wallet_pubkey, wallet);
  CAF_REQUIRE_EQUAL(u->relays.size(), 2u);
  CAF_CHECK_EQUAL(u->relays[0], "wss://relay.one");
  CAF_CHECK_EQUAL(u->relays[1], "wss://relay.two/x");
  CAF_CHECK_EQUAL(u->secret_hex, secret);
  CAF_CHECK_EQUAL(u->lud16, "me@example.com");
  // Some wallets omit the slashes.
  CAF_CHECK(parse_nwc_uri("nostr+walletconnect:" + wallet + "?relay=wss://r.x&secret=" + secret, &why));
}

CAF_TEST(refused) {
  error_of("");
  error_of("https://" + wallet + "?relay=wss://r.x&secret=" + secret);
  error_of("nostr+walletconnect://" + wallet);
  error_of("nostr+walletconnect://" + wallet.substr(1) + "?relay=wss://r.x&secret=" + secret);
  error_of("nostr+walletconnect://" + wallet + "?secret=" + secret);
  error_of("nostr+walletconnect://" + wallet + "?relay=https://r.x&secret=" + secret);
  error_of("nostr+walletconnect://" + wallet + "?relay=wss://r.x");
  error_of("nostr+walletconnect://" + wallet + "?relay=wss://r.x&secret=" + secret.substr(2));
  error_of("nostr+walletconnect://" + wallet + "?relay=wss://r.x&secret=" + std::string(64, '0'));
  error_of("nostr+walletconnect://" + wallet + "?relay=wss://r.x&secret=" + secret + "&secret=" + secret);
  error_of("nostr+walletconnect://" + wallet + "?relay=wss%3&secret=" + secret);
  error_of("nostr+walletconnect://" + wallet + "?relay=wss://r.x&secret=" + secret + std::string(5000, 'a'));
}
