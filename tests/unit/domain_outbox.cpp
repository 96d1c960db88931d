// The outbox's rules as pure functions: backoff, what one publication, a missing
// inbox list or a transient failure does to a row, when it gives up, and which
// kind-10050 event names the recipient's inbox relays.
#undef CAF_SUITE
#define CAF_SUITE domain_outbox
#include <caf/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "domain/outbox.hpp"
#include "nostr/event.hpp"
#include "nostr/keys.hpp"

using namespace relayhost;

namespace {

const outbox_policy policy{};
constexpr int64_t t0 = 1764000000;

notification fresh() {
  return make_notification(std::string(32, 'a'), std::string(64, 'b'), "test", "k", "text", t0);
}

relay_publish_result result(std::string relay, publish_outcome o, std::string msg = "") {
  return {std::move(relay), o, std::move(msg)};
}

nostr::event list_of(const nostr::secret_key& who, std::vector<std::string> relays, int64_t at) {
  nostr::event e;
  e.kind = 10050;
  e.created_at = at;
  for (auto& r : relays)
    e.tags.push_back({"relay", r});
  return nostr::sign_event(std::move(e), who);
}

} // namespace

CAF_TEST(backoff_doubles_up_to_its_cap) {
  CAF_CHECK_EQUAL(outbox_backoff(30, 3600, 1), 30);
  CAF_CHECK_EQUAL(outbox_backoff(30, 3600, 2), 60);
  CAF_CHECK_EQUAL(outbox_backoff(30, 3600, 3), 120);
  CAF_CHECK_EQUAL(outbox_backoff(30, 3600, 8), 3600);
  CAF_CHECK_EQUAL(outbox_backoff(30, 3600, 1000000), 3600);  // no overflow for huge attempt counts
  CAF_CHECK_EQUAL(outbox_backoff(0, 10, 1), 1);              // never 0: no busy loop
}

CAF_TEST(one_relay_holding_the_event_is_sent_and_a_duplicate_counts) {
  auto n = fresh();
  auto s = after_publication(n, {result("wss://a", publish_outcome::timed_out), result("wss://b", publish_outcome::accepted)},
                             t0 + 5, policy);
  CAF_CHECK(s.state == notification_state::sent);
  CAF_CHECK_EQUAL(s.sent_at.value_or(0), t0 + 5);
  CAF_CHECK(!s.next_attempt_at);
  CAF_CHECK_EQUAL(s.attempts, 1);
  auto relays = nlohmann::json::parse(*s.relays_json);
  CAF_CHECK_EQUAL(relays.size(), 2u);
  CAF_CHECK_EQUAL(relays[0]["outcome"], "timed_out");
  // A relay that already has it (a retry after a crash) says "duplicate:": delivered.
  auto d = after_publication(n, {result("wss://a", publish_outcome::rejected, "duplicate: have it")}, t0, policy);
  CAF_CHECK(d.state == notification_state::sent);
  CAF_CHECK(!holds_event(result("wss://a", publish_outcome::rejected, "blocked: duplicate: no")));
}

CAF_TEST(no_relay_accepting_is_retried_with_backoff_then_failed_after_a_week) {
  auto n = fresh();
  auto s = after_publication(n, {result("wss://a", publish_outcome::rejected, "blocked: spam")}, t0, policy);
  CAF_CHECK(s.state == notification_state::pending);
  CAF_CHECK_EQUAL(s.next_attempt_at.value_or(0), t0 + 30);
  CAF_REQUIRE(s.last_error);
  CAF_CHECK(s.last_error->find("blocked: spam") != std::string::npos);
  n.attempts = 20;
  auto late = after_publication(n, {result("wss://a", publish_outcome::failed, "Connection refused")},
                                t0 + policy.give_up_after - 10, policy);
  CAF_CHECK(late.state == notification_state::failed);
  CAF_CHECK(!late.next_attempt_at);
  auto none = after_publication(fresh(), {}, t0, policy);
  CAF_CHECK(none.state == notification_state::pending);
}

CAF_TEST(no_inbox_list_is_undeliverable_and_rechecked_hours_apart_until_final) {
  auto n = fresh();
  auto s = after_no_inbox(n, t0, policy);
  CAF_CHECK(s.state == notification_state::undeliverable);
  CAF_CHECK_EQUAL(s.next_attempt_at.value_or(0), t0 + 3600);
  n.attempts = 1;
  n.state = notification_state::undeliverable;
  CAF_CHECK_EQUAL(after_no_inbox(n, t0 + 3600, policy).next_attempt_at.value_or(0), t0 + 3600 + 7200);
  n.attempts = 10;
  CAF_CHECK_EQUAL(after_no_inbox(n, t0 + 86400, policy).next_attempt_at.value_or(0), t0 + 2 * 86400);  // capped at a day
  auto final_ = after_no_inbox(n, t0 + policy.give_up_after, policy);
  CAF_CHECK(final_.state == notification_state::undeliverable);
  CAF_CHECK(!final_.next_attempt_at);  // never looked at again
}

CAF_TEST(a_transient_failure_keeps_the_state_it_had) {
  auto n = fresh();
  auto s = after_transient_failure(n, "no indexer relay answered", t0, policy);
  CAF_CHECK(s.state == notification_state::pending);
  CAF_CHECK_EQUAL(s.next_attempt_at.value_or(0), t0 + 30);
  n.state = notification_state::undeliverable;
  CAF_CHECK(after_transient_failure(n, "x", t0, policy).state == notification_state::undeliverable);
}

CAF_TEST(the_newest_authentic_list_by_the_author_wins_and_its_urls_are_normalised) {
  auto alice = nostr::secret_key::generate();
  auto mallory = nostr::secret_key::generate();
  auto older = list_of(alice, {"wss://old.example"}, 100);
  auto newer = list_of(alice, {"wss://New.example:443/", "wss://new.example", "https://not-a-relay.example",
                               "ws://second.example"},
                       200);
  auto forged = list_of(alice, {"wss://evil.example"}, 300);
  forged.tags = {{"relay", "wss://evil2.example"}};  // id and sig no longer match
  auto other = list_of(mallory, {"wss://mallory.example"}, 400);
  auto got = newest_inbox_list({older, forged, other, newer}, alice.pubkey_hex());
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(got->event_id, newer.id);
  CAF_CHECK(got->relays == (std::vector<std::string>{"wss://new.example", "ws://second.example"}));
  CAF_CHECK(!newest_inbox_list({other}, alice.pubkey_hex()));
  // Equal created_at: the lowest id wins (NIP-01 replaceable events).
  auto x = list_of(alice, {"wss://x.example"}, 500);
  auto y = list_of(alice, {"wss://y.example"}, 500);
  auto low = x.id < y.id ? x : y;
  auto xy = newest_inbox_list({x, y}, alice.pubkey_hex());
  auto yx = newest_inbox_list({y, x}, alice.pubkey_hex());
  CAF_REQUIRE(xy && yx);
  CAF_CHECK_EQUAL(xy->event_id, low.id);
  CAF_CHECK_EQUAL(yx->event_id, low.id);
  // An emptied list is an answer: no inbox relays.
  auto empty = list_of(alice, {}, 600);
  auto e = newest_inbox_list({newer, empty}, alice.pubkey_hex());
  CAF_REQUIRE(e);
  CAF_CHECK(e->relays.empty());
}

CAF_TEST(at_most_max_relays_are_kept) {
  auto alice = nostr::secret_key::generate();
  std::vector<std::string> many;
  for (int i = 0; i < 20; ++i)
    many.push_back("wss://r" + std::to_string(i) + ".example");
  auto got = newest_inbox_list({list_of(alice, many, 1)}, alice.pubkey_hex(), 8);
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(got->relays.size(), 8u);
}

CAF_TEST(notice_texts_name_the_platform_and_the_reason) {
  auto t = suspension_notice("Spaces", "unpaid abuse reports");
  CAF_CHECK(t.find("Spaces") != std::string::npos);
  CAF_CHECK(t.find("unpaid abuse reports") != std::string::npos);
  CAF_CHECK(suspension_lifted_notice("Spaces").find("Spaces") != std::string::npos);
}
