// What a relay sends, parsed without trusting it (every wrong shape is malformed,
// with a reason that never quotes the input), and what a client sends.
#undef CAF_SUITE
#define CAF_SUITE nostr_relay_message
#include <caf/test/unit_test.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "nostr/event.hpp"
#include "nostr/keys.hpp"
#include "nostr/relay_message.hpp"

using namespace relayhost::nostr;
using json = nlohmann::json;

namespace {

const std::string id64(64, 'a');

event signed_note() {
  event e;
  e.kind = 1;
  e.created_at = 1700000000;
  e.content = "hi";
  return sign_event(e, *secret_key::from_hex(std::string(63, '0') + "3"));
}

relay_message_type type_of(const std::string& text) {
  return parse_relay_message(text).type;
}

} // namespace

CAF_TEST(well formed messages) {
  auto ev = signed_note();
  auto m = parse_relay_message("[\"EVENT\",\"sub1\"," + to_json(ev) + "]");
  CAF_REQUIRE(m.type == relay_message_type::event);
  CAF_CHECK_EQUAL(m.subscription_id, "sub1");
  CAF_REQUIRE(m.event);
  CAF_CHECK_EQUAL(m.event->id, ev.id);
  CAF_CHECK(verify_event(*m.event));

  auto ok = parse_relay_message("[\"OK\",\"" + id64 + "\",false,\"auth-required: who are you\"]");
  CAF_REQUIRE(ok.type == relay_message_type::ok);
  CAF_CHECK_EQUAL(ok.event_id, id64);
  CAF_CHECK(!ok.accepted);
  CAF_CHECK_EQUAL(machine_prefix(ok.message), "auth-required");

  auto eose = parse_relay_message("[\"EOSE\",\"s\"]");
  CAF_CHECK(eose.type == relay_message_type::eose);
  CAF_CHECK_EQUAL(eose.subscription_id, "s");
  auto closed = parse_relay_message("[\"CLOSED\",\"s\",\"error: shutting down\"]");
  CAF_CHECK(closed.type == relay_message_type::closed);
  CAF_CHECK_EQUAL(closed.message, "error: shutting down");
  // Lenient where relays differ and nothing is lost: CLOSED without its message.
  CAF_CHECK(type_of("[\"CLOSED\",\"s\"]") == relay_message_type::closed);
  auto notice = parse_relay_message("[\"NOTICE\",\"slow down\"]");
  CAF_CHECK(notice.type == relay_message_type::notice);
  CAF_CHECK_EQUAL(notice.message, "slow down");
  auto auth = parse_relay_message("[\"AUTH\",\"challenge-123\"]");
  CAF_CHECK(auth.type == relay_message_type::auth);
  CAF_CHECK_EQUAL(auth.challenge, "challenge-123");
  CAF_CHECK(type_of("[\"COUNT\",\"s\",{\"count\":3}]") == relay_message_type::count);
  CAF_CHECK(type_of("[\"FUTURE\",1,2,3]") == relay_message_type::unknown);
}

CAF_TEST(wrong shapes are malformed and say why without quoting) {
  auto ev = to_json(signed_note());
  for (auto bad : {std::string("not json"), std::string("{}"), std::string("[]"), std::string("[1,2]"),
                   std::string("[\"EVENT\",\"s\"]"), std::string("[\"EVENT\",1," + ev + "]"),
                   std::string("[\"EVENT\",\"s\",{\"id\":\"x\"}]"), std::string("[\"EVENT\",\"s\"," + ev + ",1]"),
                   std::string("[\"OK\",\"" + id64 + "\",\"true\",\"\"]"),
                   std::string("[\"OK\",\"" + std::string(64, 'A') + "\",true,\"\"]"),
                   std::string("[\"OK\",\"abc\",true,\"\"]"), std::string("[\"OK\",\"" + id64 + "\",true]"),
                   std::string("[\"EOSE\"]"), std::string("[\"EOSE\",5]"), std::string("[\"CLOSED\",\"s\",5]"),
                   std::string("[\"NOTICE\"]"), std::string("[\"NOTICE\",{}]"), std::string("[\"AUTH\",7]"),
                   std::string("[\"COUNT\",\"s\",5]"), std::string("[\"EOSE\",\"" + std::string(65, 's') + "\"]")}) {
    auto m = parse_relay_message(bad);
    if (m.type != relay_message_type::malformed)
      CAF_MESSAGE("not malformed: " << bad);
    CAF_CHECK(m.type == relay_message_type::malformed);
    CAF_CHECK(!m.error.empty());
    CAF_CHECK(m.error.find("sss") == std::string::npos);
  }
  // Invalid UTF-8 inside an event's content.
  auto bad_utf8 = ev;
  bad_utf8.replace(bad_utf8.find("\"hi\""), 4, "\"h\xff\"");
  CAF_CHECK(type_of("[\"EVENT\",\"s\"," + bad_utf8 + "]") == relay_message_type::malformed);
}

CAF_TEST(a forged event is parsed but does not verify) {
  auto ev = signed_note();
  ev.content = "changed";
  auto m = parse_relay_message("[\"EVENT\",\"s\"," + to_json(ev) + "]");
  CAF_REQUIRE(m.type == relay_message_type::event);
  CAF_CHECK(!verify_event(*m.event));  // the parser does not vouch: the pool verifies
}

CAF_TEST(client messages) {
  auto ev = signed_note();
  auto e = json::parse(client_event_message(ev));
  CAF_CHECK(e[0] == "EVENT");
  CAF_CHECK(e[1]["id"] == ev.id);
  auto req = json::parse(client_req_message("q1", {"{\"kinds\":[10050],\"limit\":1}", "{\"ids\":[\"x\"]}"}));
  CAF_CHECK_EQUAL(req.dump(), "[\"REQ\",\"q1\",{\"kinds\":[10050],\"limit\":1},{\"ids\":[\"x\"]}]");
  CAF_CHECK_EQUAL(client_close_message("q1"), "[\"CLOSE\",\"q1\"]");
  bool threw = false;
  try {
    client_req_message("q", {"[1]"});
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CAF_CHECK(threw);
}

CAF_TEST(machine prefixes) {
  CAF_CHECK_EQUAL(machine_prefix("duplicate: have it"), "duplicate");
  CAF_CHECK_EQUAL(machine_prefix("rate-limited: slow"), "rate-limited");
  CAF_CHECK_EQUAL(machine_prefix("no prefix here"), "");
  CAF_CHECK_EQUAL(machine_prefix(": empty"), "");
  CAF_CHECK_EQUAL(machine_prefix("Blocked: capital"), "");
  CAF_CHECK_EQUAL(machine_prefix(""), "");
}

CAF_TEST(the nip42 auth event) {
  auto key = *secret_key::from_hex(std::string(63, '0') + "5");
  auto e = sign_event(auth_event("wss://relay.example", "chal", 1700000000), key);
  CAF_CHECK_EQUAL(e.kind, 22242);
  CAF_CHECK_EQUAL(e.created_at, 1700000000);
  CAF_CHECK(verify_event(e));
  CAF_REQUIRE_EQUAL(e.tags.size(), 2u);
  CAF_CHECK_EQUAL(e.tags[0][0], "relay");
  CAF_CHECK_EQUAL(e.tags[0][1], "wss://relay.example");
  CAF_CHECK_EQUAL(e.tags[1][0], "challenge");
  CAF_CHECK_EQUAL(e.tags[1][1], "chal");
  auto msg = json::parse(client_auth_message(e));
  CAF_CHECK(msg[0] == "AUTH");
  CAF_CHECK(msg[1]["sig"] == e.sig);
}
