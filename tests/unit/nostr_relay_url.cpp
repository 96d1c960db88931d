// Relay URLs: what is accepted, how it is normalised (one relay, one connection,
// however it was spelled), and a reason for every rejection.
#undef CAF_SUITE
#define CAF_SUITE nostr_relay_url
#include <caf/test/unit_test.hpp>

#include <string>

#include "nostr/relay_url.hpp"

using namespace relayhost::nostr;

namespace {

std::string norm(const std::string& url) {
  auto u = parse_relay_url(url);
  return u ? u->normalized : "<rejected>";
}

std::string why(const std::string& url) {
  std::string error;
  auto u = parse_relay_url(url, &error);
  return u ? "<accepted>" : error;
}

} // namespace

CAF_TEST(spellings of one relay normalise to one url) {
  for (auto s : {"wss://relay.example", "wss://relay.example/", "WSS://Relay.Example:443/", "wss://relay.example.",
                 "wSs://RELAY.example:443"})
    CAF_CHECK_EQUAL(norm(s), "wss://relay.example");
  CAF_CHECK_EQUAL(norm("ws://relay.example:80/"), "ws://relay.example");
  CAF_CHECK_EQUAL(norm("ws://relay.example:443"), "ws://relay.example:443");  // not ws's default
  CAF_CHECK_EQUAL(norm("wss://relay.example:80"), "wss://relay.example:80");
  CAF_CHECK_EQUAL(norm("wss://relay.example/Inbox/"), "wss://relay.example/Inbox");  // path case kept
  CAF_CHECK_EQUAL(norm("wss://relay.example/a?x=1"), "wss://relay.example/a?x=1");
  CAF_CHECK_EQUAL(norm("ws://127.0.0.1:7777"), "ws://127.0.0.1:7777");
  CAF_CHECK_EQUAL(norm("ws://[::1]:7777/"), "ws://[::1]:7777");
  CAF_CHECK_EQUAL(norm("wss://[2001:DB8::1]"), "wss://[2001:db8::1]");
}

CAF_TEST(the parts are ready for a connection) {
  auto u = parse_relay_url("wss://Relay.Example/inbox?k=v");
  CAF_REQUIRE(u);
  CAF_CHECK(u->tls);
  CAF_CHECK_EQUAL(u->host, "relay.example");
  CAF_CHECK_EQUAL(u->port, 443);
  CAF_CHECK_EQUAL(u->target, "/inbox?k=v");
  auto v = parse_relay_url("ws://[::1]:9000");
  CAF_REQUIRE(v);
  CAF_CHECK(!v->tls);
  CAF_CHECK_EQUAL(v->host, "::1");
  CAF_CHECK_EQUAL(v->port, 9000);
  CAF_CHECK_EQUAL(v->target, "/");
}

CAF_TEST(bad urls are rejected with a reason) {
  CAF_CHECK_EQUAL(why("https://relay.example"), "must be a ws:// or wss:// URL");
  CAF_CHECK_EQUAL(why("relay.example"), "must be a ws:// or wss:// URL");
  CAF_CHECK_EQUAL(why(""), "must be a ws:// or wss:// URL");
  CAF_CHECK_EQUAL(why("wss://"), "has no host");
  CAF_CHECK_EQUAL(why("wss:///path"), "has no host");
  CAF_CHECK_EQUAL(why("wss://:443"), "has no host");
  CAF_CHECK_EQUAL(why("wss://user:pw@relay.example"), "must not have user info");
  CAF_CHECK_EQUAL(why("wss://relay.example/#frag"), "must not have a fragment");
  CAF_CHECK_EQUAL(why("wss://relay.example:0"), "has a port outside 1-65535");
  CAF_CHECK_EQUAL(why("wss://relay.example:65536"), "has a port outside 1-65535");
  CAF_CHECK_EQUAL(why("wss://relay.example:123456"), "has a port outside 1-65535");
  CAF_CHECK_EQUAL(why("wss://relay.example:44a"), "has a port that is not a number");
  CAF_CHECK_EQUAL(why("wss://relay.example:"), "has an empty port");
  CAF_CHECK_EQUAL(why("wss://[::1"), "has an unclosed [ in its host");
  CAF_CHECK_EQUAL(why("wss://[zz::1]"), "has an invalid IPv6 address");
  CAF_CHECK_EQUAL(why("wss://relay example"), "contains a space or a control character");
  CAF_CHECK_EQUAL(why("wss://relay.example/\n"), "contains a space or a control character");
  CAF_CHECK_EQUAL(why("wss://rel!ay.example"), "has an invalid character in its host");
  CAF_CHECK_EQUAL(why("wss://relay.example/" + std::string(2100, 'a')), "longer than 2048 bytes");
}
