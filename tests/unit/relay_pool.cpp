// The relay pool in simulated time, with scripted websockets behind its
// connector: one connection per normalised URL, OK / rejection / timeout per
// relay, a relay that never opens not holding up the others, NIP-42 AUTH and
// the auth-required retry, queries until EOSE (forged and duplicate events
// dropped), live subscriptions re-sent after a reconnect with backoff, garbage
// ignored, and the bounded queue.
#define CAF_SUITE relay_pool
#include <caf/test/dsl.hpp>

#include <deque>
#include <map>

#include <nlohmann/json.hpp>

#include "actors/relay_pool.hpp"
#include "nostr/keys.hpp"
#include "nostr/relay_message.hpp"
#include "nostr/signer.hpp"

using namespace relayhost;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

struct fake_link : http::ws_connection {
  std::vector<std::string> sent;
  int acks = 0;
  bool closed = false;
  void send(std::string text) override { sent.push_back(std::move(text)); }
  void ack() override { ++acks; }
  void close() override { closed = true; }
  json last() const { return json::parse(sent.back()); }
};

struct dialed {
  http::ws_target target;
  http::ws_handlers h;
  std::shared_ptr<fake_link> link;
};

// Collects a live subscription's events.
struct sink_state {
  std::shared_ptr<std::vector<std::pair<std::string, nostr::event>>> got;
};
pool_subscriber_actor::behavior_type sink_impl(pool_subscriber_actor::stateful_pointer<sink_state> self,
                                               std::shared_ptr<std::vector<std::pair<std::string, nostr::event>>> got) {
  self->state.got = std::move(got);
  return {[self](pool_event_atom, uint64_t, std::string& relay, nostr::event& ev) {
    self->state.got->emplace_back(relay, std::move(ev));
  }};
}

const nostr::secret_key platform = nostr::secret_key::generate();
const nostr::secret_key author = nostr::secret_key::generate();

nostr::event signed_note(std::string content, int64_t at = 1764000000, int kind = 1) {
  nostr::event e;
  e.kind = kind;
  e.created_at = at;
  e.content = std::move(content);
  return nostr::sign_event(std::move(e), author);
}

struct fixture : test_coordinator_fixture<> {
  std::shared_ptr<std::vector<dialed>> dials = std::make_shared<std::vector<dialed>>();
  std::shared_ptr<relay_pool_env> env = std::make_shared<relay_pool_env>();
  relay_pool_actor pool;

  fixture() {
    env->connect = [d = dials](const http::ws_target& t, http::ws_handlers h) {
      auto link = std::make_shared<fake_link>();
      d->push_back({t, std::move(h), link});
      return link;
    };
    env->platform_signer = std::make_shared<const nostr::signer>(platform);
    env->now = [] { return int64_t{1764000000}; };
    env->reconnect_base = 1000ms;
    env->reconnect_max = 8000ms;
    env->max_queued_per_relay = 4;
    env->counters = std::make_shared<relay_pool_counters>();
    pool = sys.spawn(relay_pool_impl, std::shared_ptr<const relay_pool_env>(env));
    sched.run();
  }

  ~fixture() {
    anon_send_exit(pool, caf::exit_reason::user_shutdown);
    sched.run();
  }

  dialed& dial(size_t i) {
    CAF_REQUIRE(i < dials->size());
    return (*dials)[i];
  }
  void open(size_t i) {
    dial(i).h.on_open();
    sched.run();
  }
  void relay_says(size_t i, const json& msg) {
    dial(i).h.on_message(msg.dump());
    sched.run();
  }
  void relay_says_raw(size_t i, std::string text) {
    dial(i).h.on_message(std::move(text));
    sched.run();
  }
  void drop(size_t i, std::string why = "closed by peer") {
    dial(i).h.on_close(std::move(why));
    sched.run();
  }
};

std::map<std::string, relay_publish_result> by_relay(const publish_report& r) {
  std::map<std::string, relay_publish_result> m;
  for (auto& x : r.relays)
    m[x.relay] = x;
  return m;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(relay_pool_tests, fixture)

CAF_TEST(one_connection_per_normalised_url_and_each_relays_ok_is_reported) {
  auto ev = signed_note("hello");
  auto h = self->request(pool, caf::infinite, publish_atom::value, ev,
                         std::vector<std::string>{"wss://R1.example:443/", "wss://r1.example", "ws://r2.example:80",
                                                  "http://bad.example"},
                         caf::timespan{10s});
  sched.run();
  CAF_REQUIRE_EQUAL(dials->size(), 2u);  // r1 twice in two spellings, r2 once, http:// never dialled
  CAF_CHECK_EQUAL(dial(0).target.host, "r1.example");
  CAF_CHECK(dial(0).target.tls);
  CAF_CHECK_EQUAL(dial(0).target.port, 443);
  CAF_CHECK(!dial(1).target.tls);
  CAF_CHECK(dial(0).link->sent.empty());  // nothing is written before the handshake
  open(0);
  open(1);
  CAF_REQUIRE_EQUAL(dial(0).link->sent.size(), 1u);
  auto sent0 = dial(0).link->last();
  CAF_CHECK_EQUAL(sent0[0], "EVENT");
  CAF_CHECK_EQUAL(sent0[1]["id"], ev.id);
  relay_says(0, json::array({"OK", ev.id, true, ""}));
  relay_says(1, json::array({"OK", ev.id, false, "blocked: not on the list"}));
  std::optional<publish_report> report;
  h.receive([&](publish_report& r) { report = std::move(r); }, [](caf::error&) { CAF_FAIL("error"); });
  CAF_REQUIRE(report);
  auto m = by_relay(*report);
  CAF_REQUIRE_EQUAL(m.size(), 3u);
  CAF_CHECK(m["wss://r1.example"].outcome == publish_outcome::accepted);
  CAF_CHECK(m["ws://r2.example"].outcome == publish_outcome::rejected);
  CAF_CHECK_EQUAL(m["ws://r2.example"].message, "blocked: not on the list");
  CAF_CHECK(m["http://bad.example"].outcome == publish_outcome::failed);
  CAF_CHECK_EQUAL(env->counters->publish_accepted.load(), 1u);
  CAF_CHECK_EQUAL(env->counters->publish_rejected.load(), 1u);
}

CAF_TEST(a_relay_that_never_answers_times_out_without_holding_up_the_others) {
  auto ev = signed_note("hello");
  auto h = self->request(pool, caf::infinite, publish_atom::value, ev,
                         std::vector<std::string>{"wss://silent.example", "wss://good.example"}, caf::timespan{10s});
  sched.run();
  CAF_REQUIRE_EQUAL(dials->size(), 2u);
  open(1);  // silent.example never completes its handshake
  CAF_REQUIRE_EQUAL(dial(1).link->sent.size(), 1u);  // the good relay has the event at once
  relay_says(1, json::array({"OK", ev.id, true, ""}));
  CAF_CHECK(self->mailbox().empty());  // no report while one relay may still answer
  advance_time(10s);
  sched.run();
  std::optional<publish_report> report;
  h.receive([&](publish_report& r) { report = std::move(r); }, [](caf::error&) { CAF_FAIL("error"); });
  CAF_REQUIRE(report);
  auto m = by_relay(*report);
  CAF_CHECK(m["wss://good.example"].outcome == publish_outcome::accepted);
  CAF_CHECK(m["wss://silent.example"].outcome == publish_outcome::timed_out);
}

CAF_TEST(auth_required_is_answered_with_a_signed_22242_and_the_event_sent_again) {
  auto ev = signed_note("for an inbox that wants AUTH");
  auto h = self->request(pool, caf::infinite, publish_atom::value, ev, std::vector<std::string>{"wss://inbox.example"},
                         caf::timespan{10s});
  sched.run();
  open(0);
  relay_says(0, json::array({"AUTH", "challenge-123"}));
  auto& sent = dial(0).link->sent;
  CAF_REQUIRE_EQUAL(sent.size(), 2u);  // the EVENT, then the AUTH
  auto auth = json::parse(sent[1]);
  CAF_REQUIRE_EQUAL(auth[0], "AUTH");
  auto auth_ev = nostr::parse_event(auth[1].dump());
  CAF_REQUIRE(auth_ev);
  CAF_CHECK(nostr::verify_event(*auth_ev));
  CAF_CHECK_EQUAL(auth_ev->kind, 22242);
  CAF_CHECK_EQUAL(auth_ev->pubkey, platform.pubkey_hex());
  CAF_CHECK(auth_ev->tags == (std::vector<std::vector<std::string>>{{"relay", "wss://inbox.example"},
                                                                    {"challenge", "challenge-123"}}));
  // The relay had refused the EVENT before it saw the AUTH.
  relay_says(0, json::array({"OK", ev.id, false, "auth-required: we only accept DMs from authenticated users"}));
  CAF_CHECK_EQUAL(sent.size(), 2u);  // waits for the AUTH's OK
  relay_says(0, json::array({"OK", auth_ev->id, true, ""}));
  CAF_REQUIRE_EQUAL(sent.size(), 3u);
  auto again = json::parse(sent[2]);
  CAF_CHECK_EQUAL(again[1]["id"], ev.id);  // the very same event again
  relay_says(0, json::array({"OK", ev.id, true, ""}));
  std::optional<publish_report> report;
  h.receive([&](publish_report& r) { report = std::move(r); }, [](caf::error&) { CAF_FAIL("error"); });
  CAF_REQUIRE(report);
  CAF_CHECK(report->relays.at(0).outcome == publish_outcome::accepted);
  CAF_CHECK_EQUAL(env->counters->auths.load(), 1u);
}

CAF_TEST(auth_required_twice_is_a_rejection_not_a_loop) {
  auto ev = signed_note("x");
  auto h = self->request(pool, caf::infinite, publish_atom::value, ev, std::vector<std::string>{"wss://inbox.example"},
                         caf::timespan{10s});
  sched.run();
  open(0);
  relay_says(0, json::array({"AUTH", "c1"}));
  auto auth_id = json::parse(dial(0).link->sent[1])[1]["id"].get<std::string>();
  relay_says(0, json::array({"OK", ev.id, false, "auth-required: please"}));
  relay_says(0, json::array({"OK", auth_id, true, ""}));
  relay_says(0, json::array({"OK", ev.id, false, "auth-required: still no"}));
  std::optional<publish_report> report;
  h.receive([&](publish_report& r) { report = std::move(r); }, [](caf::error&) { CAF_FAIL("error"); });
  CAF_REQUIRE(report);
  CAF_CHECK(report->relays.at(0).outcome == publish_outcome::rejected);
  CAF_CHECK_EQUAL(dial(0).link->sent.size(), 3u);  // EVENT, AUTH, EVENT: no third try
}

CAF_TEST(a_query_collects_authentic_events_once_until_eose_and_closes_its_subscription) {
  auto a = signed_note("a", 100);
  auto b = signed_note("b", 200);
  auto forged = signed_note("forged", 300);
  forged.content = "changed after signing";
  auto h = self->request(pool, caf::infinite, query_atom::value, std::vector<std::string>{R"({"kinds":[1]})"},
                         std::vector<std::string>{"wss://i1.example", "wss://i2.example"}, caf::timespan{10s});
  sched.run();
  open(0);
  open(1);
  auto req = dial(0).link->last();
  CAF_REQUIRE_EQUAL(req[0], "REQ");
  auto sub = req[1].get<std::string>();
  CAF_CHECK_EQUAL(req[2], json::parse(R"({"kinds":[1]})"));
  relay_says(0, json::array({"EVENT", sub, json::parse(nostr::to_json(a))}));
  relay_says(0, json::array({"EVENT", sub, json::parse(nostr::to_json(forged))}));
  relay_says(0, json::array({"EVENT", "someone-elses-sub", json::parse(nostr::to_json(b))}));
  relay_says(1, json::array({"EVENT", sub, json::parse(nostr::to_json(a))}));  // the same event again
  relay_says(1, json::array({"EVENT", sub, json::parse(nostr::to_json(b))}));
  relay_says(0, json::array({"EOSE", sub}));
  CAF_CHECK_EQUAL(dial(0).link->last(), json::array({"CLOSE", sub}));
  relay_says(1, json::array({"CLOSED", sub, "error: shutting down"}));
  std::optional<query_report> report;
  h.receive([&](query_report& r) { report = std::move(r); }, [](caf::error&) { CAF_FAIL("error"); });
  CAF_REQUIRE(report);
  CAF_REQUIRE_EQUAL(report->events.size(), 2u);
  CAF_CHECK_EQUAL(report->events[0].id, b.id);  // newest first
  CAF_CHECK_EQUAL(report->events[1].id, a.id);
  CAF_CHECK_EQUAL(env->counters->invalid_events.load(), 1u);
  std::map<std::string, query_outcome> outcomes;
  for (auto& r : report->relays)
    outcomes[r.relay] = r.outcome;
  CAF_CHECK(outcomes["wss://i1.example"] == query_outcome::eose);
  CAF_CHECK(outcomes["wss://i2.example"] == query_outcome::closed);
}

CAF_TEST(garbage_from_a_relay_is_counted_and_ignored) {
  auto ev = signed_note("x");
  auto h = self->request(pool, caf::infinite, publish_atom::value, ev, std::vector<std::string>{"wss://g.example"},
                         caf::timespan{10s});
  sched.run();
  open(0);
  for (auto junk : {"not json", "[]", "{}", R"(["OK"])", R"(["EVENT","x",{}])", R"(["OK",1,true,""])"})
    relay_says_raw(0, junk);
  relay_says(0, json::array({"NOTICE", "hi"}));
  CAF_CHECK_EQUAL(dial(0).link->acks, 7);  // every message was taken, so the next could be read
  CAF_CHECK(env->counters->malformed.load() >= 5u);
  CAF_CHECK_EQUAL(env->counters->notices.load(), 1u);
  relay_says(0, json::array({"OK", ev.id, true, ""}));  // and the relay still works
  std::optional<publish_report> report;
  h.receive([&](publish_report& r) { report = std::move(r); }, [](caf::error&) { CAF_FAIL("error"); });
  CAF_REQUIRE(report);
  CAF_CHECK(report->relays.at(0).outcome == publish_outcome::accepted);
}

CAF_TEST(a_dropped_connection_fails_its_publication_and_a_live_subscription_comes_back_after_backoff) {
  auto got = std::make_shared<std::vector<std::pair<std::string, nostr::event>>>();
  auto sink = sys.spawn(sink_impl, got);
  auto ev = signed_note("pending");
  auto sub_h = self->request(pool, caf::infinite, subscribe_atom::value, std::vector<std::string>{R"({"kinds":[23195]})"},
                             std::vector<std::string>{"wss://w.example"}, caf::actor_cast<pool_subscriber_actor>(sink));
  sched.run();
  uint64_t sub_id = 0;
  sub_h.receive([&](uint64_t id) { sub_id = id; }, [](caf::error&) { CAF_FAIL("error"); });
  auto pub = self->request(pool, caf::infinite, publish_atom::value, ev, std::vector<std::string>{"wss://w.example"},
                           caf::timespan{10s});
  sched.run();
  open(0);
  auto req = json::parse(dial(0).link->sent.at(0));
  CAF_REQUIRE_EQUAL(req[0], "REQ");
  auto wire_sub = req[1].get<std::string>();
  auto n1 = signed_note("one", 1);
  relay_says(0, json::array({"EVENT", wire_sub, json::parse(nostr::to_json(n1))}));
  drop(0, "connection reset");
  std::optional<publish_report> report;
  pub.receive([&](publish_report& r) { report = std::move(r); }, [](caf::error&) { CAF_FAIL("error"); });
  CAF_REQUIRE(report);
  CAF_CHECK(report->relays.at(0).outcome == publish_outcome::failed);
  CAF_CHECK_EQUAL(report->relays.at(0).message, "connection reset");
  CAF_CHECK_EQUAL(dials->size(), 1u);  // no reconnect before the backoff
  CAF_CHECK_EQUAL(env->counters->backoff.load(), 1);
  advance_time(1s);
  sched.run();
  CAF_REQUIRE_EQUAL(dials->size(), 2u);
  open(1);
  CAF_REQUIRE(!dial(1).link->sent.empty());
  auto resent = json::parse(dial(1).link->sent.at(0));
  CAF_CHECK_EQUAL(resent[1], wire_sub);  // the same subscription, re-sent
  auto n2 = signed_note("two", 2);
  relay_says(1, json::array({"EVENT", wire_sub, json::parse(nostr::to_json(n1))}));  // seen already
  relay_says(1, json::array({"EVENT", wire_sub, json::parse(nostr::to_json(n2))}));
  sched.run();
  CAF_REQUIRE_EQUAL(got->size(), 2u);
  CAF_CHECK_EQUAL((*got)[0].second.id, n1.id);
  CAF_CHECK_EQUAL((*got)[1].second.id, n2.id);
  CAF_CHECK_EQUAL((*got)[1].first, "wss://w.example");
  anon_send(pool, unsub_atom::value, sub_id);
  sched.run();
  CAF_CHECK_EQUAL(dial(1).link->last(), json::array({"CLOSE", wire_sub}));
  anon_send_exit(sink, caf::exit_reason::user_shutdown);
  sched.run();
}

CAF_TEST(repeated_failures_back_off_exponentially_up_to_the_cap) {
  auto got = std::make_shared<std::vector<std::pair<std::string, nostr::event>>>();
  auto sink = sys.spawn(sink_impl, got);
  self->send(pool, subscribe_atom::value, std::vector<std::string>{R"({"kinds":[1]})"},
             std::vector<std::string>{"wss://down.example"}, caf::actor_cast<pool_subscriber_actor>(sink));
  sched.run();
  // Each connect fails at once; the next waits 50-100 % of base × 2^(n-1), capped at 8 s.
  std::vector<std::chrono::milliseconds> caps{1000ms, 2000ms, 4000ms, 8000ms, 8000ms};
  for (size_t i = 0; i < caps.size(); ++i) {
    CAF_REQUIRE_EQUAL(dials->size(), i + 1);
    drop(i, "Connection refused");
    advance_time(caps[i] / 2 - 1ms);
    sched.run();
    CAF_CHECK_EQUAL(dials->size(), i + 1);  // not before half the delay
    advance_time(caps[i] / 2 + 1ms);
    sched.run();
  }
  CAF_CHECK_EQUAL(dials->size(), caps.size() + 1);
  anon_send_exit(sink, caf::exit_reason::user_shutdown);
  sched.run();
}

CAF_TEST(a_full_queue_answers_failed_instead_of_growing) {
  std::vector<nostr::event> evs;
  for (int i = 0; i < 6; ++i)
    evs.push_back(signed_note("n" + std::to_string(i)));
  auto ask = [&](const nostr::event& ev) {
    return self->request(pool, caf::infinite, publish_atom::value, ev, std::vector<std::string>{"wss://slow.example"},
                         caf::timespan{10s});
  };
  std::vector<decltype(ask(evs[0]))> hs;
  for (auto& ev : evs)
    hs.push_back(ask(ev));
  sched.run();
  size_t failed = 0, answered = 0;
  // The relay never opens: the first 4 wait in the queue, the last 2 are answered at once.
  for (size_t i = 4; i < hs.size(); ++i)
    hs[i].receive(
      [&](publish_report& r) {
        ++answered;
        failed += r.relays.at(0).outcome == publish_outcome::failed;
      },
      [](caf::error&) { CAF_FAIL("error"); });
  CAF_CHECK_EQUAL(answered, 2u);
  CAF_CHECK_EQUAL(failed, 2u);
  open(0);
  CAF_CHECK_EQUAL(dial(0).link->sent.size(), 4u);
}

CAF_TEST(an_unused_connection_is_closed_after_the_idle_time) {
  auto ev = signed_note("x");
  self->send(pool, publish_atom::value, ev, std::vector<std::string>{"wss://r.example"}, caf::timespan{10s});
  sched.run();
  open(0);
  relay_says(0, json::array({"OK", ev.id, true, ""}));
  CAF_CHECK(!dial(0).link->closed);
  advance_time(330s);
  sched.run();
  advance_time(30s);
  sched.run();
  CAF_CHECK(dial(0).link->closed);
  CAF_CHECK_EQUAL(env->counters->open.load(), 0);
}

CAF_TEST_FIXTURE_SCOPE_END()
