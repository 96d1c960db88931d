// The platform's identity events (kind 0, 10002, 10050) and their publication:
// every indexer gets each event, and an indexer that did not take one gets it
// again with backoff until it does, while the others are not asked again.
#define CAF_SUITE identity_publisher
#include <caf/test/dsl.hpp>

#include <map>

#include <nlohmann/json.hpp>

#include "actors/identity_publisher.hpp"
#include "nostr/keys.hpp"
#include "nostr/signer.hpp"

using namespace relayhost;
using namespace std::chrono_literals;

namespace {

struct script {
  std::set<std::string> refusing;  // relays that answer "failed"
  std::vector<std::pair<nostr::event, std::vector<std::string>>> published;
};

relay_pool_actor::behavior_type fake_pool(relay_pool_actor::pointer, std::shared_ptr<script> s) {
  return {
    [s](publish_atom, nostr::event& ev, std::vector<std::string>& relays, caf::timespan) {
      s->published.emplace_back(ev, relays);
      publish_report r;
      for (auto& u : relays)
        r.relays.push_back({u, s->refusing.count(u) ? publish_outcome::failed : publish_outcome::accepted, ""});
      return r;
    },
    [](query_atom, std::vector<std::string>&, std::vector<std::string>&, caf::timespan) { return query_report{}; },
    [](subscribe_atom, std::vector<std::string>&, std::vector<std::string>&, pool_subscriber_actor&) {
      return uint64_t{0};
    },
    [](unsub_atom, uint64_t) {},
    [](ws_atom, ws_signal&) {},
    [](reconnect_atom, std::string&, uint64_t) {},
    [](deadline_atom, uint64_t) {},
    [](sweep_atom) {},
    [](stats_atom) { return relay_pool_stats{}; },
  };
}

} // namespace

CAF_TEST(the_events_carry_the_profile_and_the_relay_lists) {
  platform_profile p{"Spaces", "Hosted relays", "https://spaces.example/logo.png",
                     {"wss://Inbox.example/", "wss://both.example"}};
  auto evs = platform_identity_events(p, {"wss://both.example", "wss://indexer.example"}, 1764000000);
  CAF_REQUIRE_EQUAL(evs.size(), 3u);
  CAF_CHECK_EQUAL(evs[0].kind, 0);
  auto meta = nlohmann::json::parse(evs[0].content);
  CAF_CHECK_EQUAL(meta["name"], "Spaces");
  CAF_CHECK_EQUAL(meta["about"], "Hosted relays");
  CAF_CHECK_EQUAL(meta["picture"], "https://spaces.example/logo.png");
  CAF_CHECK_EQUAL(evs[1].kind, 10002);
  CAF_CHECK(evs[1].tags == (std::vector<std::vector<std::string>>{
                             {"r", "wss://inbox.example", "read"}, {"r", "wss://both.example"},
                             {"r", "wss://indexer.example", "write"}}));
  CAF_CHECK_EQUAL(evs[2].kind, 10050);
  CAF_CHECK(evs[2].tags == (std::vector<std::vector<std::string>>{{"relay", "wss://inbox.example"},
                                                                  {"relay", "wss://both.example"}}));
  for (auto& e : evs)
    CAF_CHECK_EQUAL(e.created_at, 1764000000);
  // Without messaging relays there is no inbox list to publish.
  auto bare = platform_identity_events(platform_profile{}, {"wss://indexer.example"}, 1);
  CAF_CHECK_EQUAL(bare.size(), 2u);
  auto bare_meta = nlohmann::json::parse(bare[0].content);
  CAF_CHECK_EQUAL(bare_meta["name"], "relayhost");
}

CAF_TEST_FIXTURE_SCOPE(identity_tests, test_coordinator_fixture<>)

CAF_TEST(an_indexer_that_did_not_take_the_events_gets_them_again_until_it_does) {
  auto s = std::make_shared<script>();
  s->refusing = {"wss://down.example"};
  auto pool = sys.spawn(fake_pool, s);
  auto key = nostr::secret_key::generate();
  auto env = std::make_shared<identity_env>();
  env->pool = pool;
  env->platform_signer = std::make_shared<const nostr::signer>(key);
  env->indexers = {"wss://up.example", "wss://down.example"};
  env->profile = platform_profile{"Spaces", "", "", {"wss://inbox.example"}};
  env->now = [] { return int64_t{1764000000}; };
  env->publish_timeout = 5s;
  env->retry_base = 30s;
  auto pub = sys.spawn(identity_publisher_impl, std::shared_ptr<const identity_env>(env));
  anon_send(pub, start_atom::value);
  sched.run();
  CAF_REQUIRE_EQUAL(s->published.size(), 3u);
  for (auto& [ev, relays] : s->published) {
    CAF_CHECK(nostr::verify_event(ev));
    CAF_CHECK_EQUAL(ev.pubkey, key.pubkey_hex());
    CAF_CHECK_EQUAL(relays.size(), 2u);
  }
  advance_time(30s);
  sched.run();
  CAF_REQUIRE_EQUAL(s->published.size(), 6u);
  for (size_t i = 3; i < 6; ++i) {
    CAF_CHECK(s->published[i].second == std::vector<std::string>{"wss://down.example"});  // only the one that lacks it
    CAF_CHECK_EQUAL(s->published[i].first.id, s->published[i - 3].first.id);              // the same events
  }
  s->refusing.clear();
  advance_time(60s);  // doubled
  sched.run();
  CAF_CHECK_EQUAL(s->published.size(), 9u);
  advance_time(3600s);
  sched.run();
  CAF_CHECK_EQUAL(s->published.size(), 9u);  // everyone has them: done
  anon_send_exit(pub, caf::exit_reason::user_shutdown);
  anon_send_exit(pool, caf::exit_reason::user_shutdown);
  sched.run();
}

CAF_TEST_FIXTURE_SCOPE_END()
