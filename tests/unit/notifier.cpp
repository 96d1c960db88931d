// The notifier over a real (temporary) database and a scripted relay pool, in
// simulated time: the recipient's newest 10050 list decides where a DM goes; the
// gift wrap is stored before its first publication and every retry publishes that
// very event; a restart publishes what the previous run stored; no inbox list is
// `undeliverable` and looked at again only after hours; indexers that do not
// answer leave the notice pending; many notices for one recipient share one lookup.
#define CAF_SUITE notifier
#include <caf/test/dsl.hpp>

#include <map>

#include <SQLiteCpp/Database.h>

#include "actors/notifier.hpp"
#include "actors/storage_actor.hpp"
#include "nostr/keys.hpp"
#include "nostr/nip59.hpp"
#include "storage/notification_store.hpp"
#include "storage/tenant_store.hpp"
#include "tests/support/temp_db.hpp"

using namespace relayhost;
using namespace std::chrono_literals;

namespace {

const nostr::secret_key platform = nostr::secret_key::generate();
const nostr::secret_key tenant_key = nostr::secret_key::generate();
const std::string recipient = tenant_key.pubkey_hex();
const std::string indexer_a = "wss://indexer-a.example";
const std::string indexer_b = "wss://indexer-b.example";

/// What the scripted pool knows and what it was asked.
struct script {
  std::vector<nostr::event> indexed;                        // what every indexer returns
  query_outcome indexer_outcome = query_outcome::eose;
  std::map<std::string, publish_outcome> relay_answer;      // by relay; missing: accepted
  std::vector<std::vector<std::string>> queries;            // the relays of each query
  std::vector<std::pair<nostr::event, std::vector<std::string>>> published;
};

relay_pool_actor::behavior_type fake_pool(relay_pool_actor::pointer, std::shared_ptr<script> s) {
  return {
    [s](publish_atom, nostr::event& ev, std::vector<std::string>& relays, caf::timespan) {
      s->published.emplace_back(ev, relays);
      publish_report r;
      for (auto& u : relays) {
        auto it = s->relay_answer.find(u);
        auto o = it == s->relay_answer.end() ? publish_outcome::accepted : it->second;
        r.relays.push_back({u, o, o == publish_outcome::accepted ? "" : "no"});
      }
      return r;
    },
    [s](query_atom, std::vector<std::string>&, std::vector<std::string>& relays, caf::timespan) {
      s->queries.push_back(relays);
      query_report r;
      if (s->indexer_outcome == query_outcome::eose)
        r.events = s->indexed;
      for (auto& u : relays)
        r.relays.push_back({u, s->indexer_outcome, s->indexer_outcome == query_outcome::eose ? "" : "timed out"});
      return r;
    },
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

nostr::event inbox_list_event(const nostr::secret_key& who, std::vector<std::string> relays, int64_t at) {
  nostr::event e;
  e.kind = 10050;
  e.created_at = at;
  for (auto& r : relays)
    e.tags.push_back({"relay", r});
  return nostr::sign_event(std::move(e), who);
}

struct fixture : test_coordinator_fixture<> {
  test::temp_db tdb;
  std::unique_ptr<SQLite::Database> db = tdb.open();  // the test's own look at the rows
  storage_actor storage;
  std::shared_ptr<script> pool_script = std::make_shared<script>();
  relay_pool_actor pool;
  std::shared_ptr<notifier_env> env = std::make_shared<notifier_env>();
  notifier_actor notifier;
  int64_t now = 1764000000;

  fixture() {
    storage = sys.spawn(make_storage, tdb.open(), storage_options{});
    pool = sys.spawn(fake_pool, pool_script);
    tenant t;
    t.pubkey = recipient;
    t.created_at = now;
    t.updated_at = now;
    storage::insert_tenant(*db, t);
    env->storage = storage;
    env->pool = pool;
    env->platform_key = std::make_shared<const nostr::secret_key>(platform);
    env->indexers = {indexer_a, indexer_b};
    env->now = [this] { return now; };
    env->counters = std::make_shared<notifier_counters>();
    start_notifier();
  }

  void start_notifier() {
    notifier = sys.spawn(notifier_impl, std::shared_ptr<const notifier_env>(env));
    sched.run();
  }

  void stop_notifier() {
    anon_send_exit(notifier, caf::exit_reason::kill);
    sched.run();
  }

  ~fixture() {
    anon_send_exit(notifier, caf::exit_reason::user_shutdown);
    anon_send_exit(pool, caf::exit_reason::user_shutdown);
    anon_send_exit(storage, caf::exit_reason::user_shutdown);
    sched.run();
  }

  std::string add_notice(std::string key, std::string text = "hello from the platform") {
    char buf[33];
    std::snprintf(buf, sizeof buf, "%032x", ++added);
    std::string id = buf;
    auto n = make_notification(id, recipient, "test", std::move(key), std::move(text), now);
    CAF_REQUIRE(storage::insert_notification(*db, n));
    return id;
  }
  int added = 0;

  void kick() {
    anon_send(notifier, notify_atom::value);
    sched.run();
  }

  void pass_time(std::chrono::seconds s) {
    now += s.count();
    advance_time(s);
    sched.run();
  }

  notification row(const std::string& id) {
    auto n = storage::find_notification(*db, id);
    CAF_REQUIRE(n);
    return *n;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(notifier_tests, fixture)

CAF_TEST(a_notice_goes_only_to_the_newest_inbox_list_as_a_gift_wrap_stored_before_it_is_sent) {
  auto stranger = nostr::secret_key::generate();
  pool_script->indexed = {
    inbox_list_event(tenant_key, {"wss://old-inbox.example"}, now - 100),
    inbox_list_event(tenant_key, {"wss://Inbox.example/", "wss://inbox2.example"}, now - 10),
    inbox_list_event(stranger, {"wss://not-theirs.example"}, now),  // someone else's list
  };
  auto id = add_notice("k1", "your relay is ready");
  kick();
  CAF_REQUIRE_EQUAL(pool_script->queries.size(), 1u);
  CAF_CHECK(pool_script->queries[0] == (std::vector<std::string>{indexer_a, indexer_b}));
  CAF_REQUIRE_EQUAL(pool_script->published.size(), 1u);
  auto& [wrap, relays] = pool_script->published[0];
  CAF_CHECK(relays == (std::vector<std::string>{"wss://inbox.example", "wss://inbox2.example"}));
  auto opened = nostr::unwrap_dm(wrap, tenant_key);
  CAF_REQUIRE(opened);
  CAF_CHECK_EQUAL(opened->sender, platform.pubkey_hex());
  CAF_CHECK_EQUAL(opened->rumor.content, "your relay is ready");
  auto n = row(id);
  CAF_CHECK(n.state == notification_state::sent);
  CAF_REQUIRE(n.wrap_id);
  CAF_CHECK_EQUAL(*n.wrap_id, wrap.id);
  CAF_CHECK(n.sent_at);
  CAF_CHECK(!n.next_attempt_at);
  CAF_CHECK_EQUAL(env->counters->sent.load(), 1u);
}

CAF_TEST(while_no_inbox_relay_accepts_the_same_event_is_published_again_with_backoff) {
  pool_script->indexed = {inbox_list_event(tenant_key, {"wss://inbox.example"}, now)};
  pool_script->relay_answer["wss://inbox.example"] = publish_outcome::timed_out;
  auto id = add_notice("k1");
  kick();
  CAF_REQUIRE_EQUAL(pool_script->published.size(), 1u);
  auto first_id = pool_script->published[0].first.id;
  auto n = row(id);
  CAF_CHECK(n.state == notification_state::pending);
  CAF_CHECK_EQUAL(n.attempts, 1);
  CAF_REQUIRE(n.next_attempt_at);
  CAF_CHECK_EQUAL(*n.next_attempt_at, now + 30);
  pass_time(29s);
  CAF_CHECK_EQUAL(pool_script->published.size(), 1u);  // not before its time
  pass_time(1s);
  CAF_REQUIRE_EQUAL(pool_script->published.size(), 2u);
  CAF_CHECK_EQUAL(pool_script->published[1].first.id, first_id);  // the very same event
  CAF_CHECK_EQUAL(row(id).attempts, 2);
  CAF_CHECK_EQUAL(row(id).next_attempt_at.value_or(0), now + 60);  // doubled
  pool_script->relay_answer.clear();  // the inbox relay is back
  pass_time(60s);
  CAF_REQUIRE_EQUAL(pool_script->published.size(), 3u);
  CAF_CHECK_EQUAL(pool_script->published[2].first.id, first_id);
  CAF_CHECK(row(id).state == notification_state::sent);
  pass_time(3600s);
  CAF_CHECK_EQUAL(pool_script->published.size(), 3u);  // sent is final
}

CAF_TEST(after_a_crash_between_storing_the_wrap_and_publishing_it_the_stored_wrap_is_published) {
  pool_script->indexed = {inbox_list_event(tenant_key, {"wss://inbox.example"}, now)};
  auto id = add_notice("k1", "stored before the crash");
  // What the previous run committed before it died: the wrap, never published.
  auto earlier = nostr::wrap_dm(platform, nostr::dm_message{recipient, "stored before the crash", now});
  storage::store_notification_wrap(*db, id, nostr::to_json(earlier), earlier.id, now);
  kick();
  CAF_REQUIRE_EQUAL(pool_script->published.size(), 1u);
  CAF_CHECK_EQUAL(pool_script->published[0].first.id, earlier.id);
  CAF_CHECK(row(id).state == notification_state::sent);
  auto after = row(id);
  CAF_REQUIRE(after.wrap_id);
  CAF_CHECK_EQUAL(*after.wrap_id, earlier.id);
}

CAF_TEST(a_restarted_notifier_finds_what_is_due_and_never_resends_what_was_sent) {
  pool_script->indexed = {inbox_list_event(tenant_key, {"wss://inbox.example"}, now)};
  auto sent = add_notice("k1");
  kick();
  CAF_CHECK(row(sent).state == notification_state::sent);
  stop_notifier();
  auto fresh = add_notice("k2");  // written while no notifier ran
  start_notifier();
  kick();  // what wiring sends at start
  CAF_REQUIRE_EQUAL(pool_script->published.size(), 2u);
  CAF_CHECK(row(fresh).state == notification_state::sent);
  CAF_CHECK_NOT_EQUAL(pool_script->published[0].first.id, pool_script->published[1].first.id);
}

CAF_TEST(no_inbox_list_is_undeliverable_and_looked_at_again_only_after_an_hour) {
  auto id = add_notice("k1");
  kick();
  CAF_CHECK(row(id).state == notification_state::undeliverable);
  CAF_CHECK_EQUAL(row(id).next_attempt_at.value_or(0), now + 3600);
  CAF_CHECK_EQUAL(pool_script->queries.size(), 1u);
  CAF_CHECK(pool_script->published.empty());
  CAF_CHECK_EQUAL(env->counters->undeliverable.load(), 1u);
  for (int i = 0; i < 59; ++i)
    pass_time(60s);  // no busy loop: nothing is asked again within the hour
  CAF_CHECK_EQUAL(pool_script->queries.size(), 1u);
  // Then the tenant publishes a list; the next look finds it (the cache is older than its TTL).
  pool_script->indexed = {inbox_list_event(tenant_key, {"wss://inbox.example"}, now)};
  pass_time(60s);
  CAF_CHECK_EQUAL(pool_script->queries.size(), 2u);
  CAF_REQUIRE_EQUAL(pool_script->published.size(), 1u);
  CAF_CHECK(row(id).state == notification_state::sent);
}

CAF_TEST(an_empty_inbox_list_is_undeliverable_too) {
  pool_script->indexed = {inbox_list_event(tenant_key, {}, now)};
  auto id = add_notice("k1");
  kick();
  CAF_CHECK(row(id).state == notification_state::undeliverable);
  CAF_CHECK(pool_script->published.empty());
}

CAF_TEST(indexers_that_do_not_answer_leave_the_notice_pending_and_are_not_cached) {
  pool_script->indexer_outcome = query_outcome::timed_out;
  auto id = add_notice("k1");
  kick();
  CAF_CHECK(row(id).state == notification_state::pending);
  CAF_REQUIRE(row(id).last_error);
  CAF_CHECK(row(id).last_error->find("no indexer relay answered") != std::string::npos);
  pool_script->indexer_outcome = query_outcome::eose;
  pool_script->indexed = {inbox_list_event(tenant_key, {"wss://inbox.example"}, now)};
  pass_time(30s);
  CAF_CHECK_EQUAL(pool_script->queries.size(), 2u);
  CAF_CHECK(row(id).state == notification_state::sent);
}

CAF_TEST(notices_for_one_recipient_share_one_lookup_and_each_gets_its_own_wrap) {
  pool_script->indexed = {inbox_list_event(tenant_key, {"wss://inbox.example"}, now)};
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(add_notice("k" + std::to_string(i), "notice " + std::to_string(i)));
  kick();
  CAF_CHECK_EQUAL(pool_script->queries.size(), 1u);
  CAF_REQUIRE_EQUAL(pool_script->published.size(), 5u);
  std::set<std::string> wrap_ids, wrap_authors;
  for (auto& [ev, relays] : pool_script->published) {
    wrap_ids.insert(ev.id);
    wrap_authors.insert(ev.pubkey);
  }
  CAF_CHECK_EQUAL(wrap_ids.size(), 5u);
  CAF_CHECK_EQUAL(wrap_authors.size(), 5u);  // a fresh key per wrap
  for (auto& id : ids)
    CAF_CHECK(row(id).state == notification_state::sent);
}

CAF_TEST(a_dedupe_key_is_one_notice) {
  add_notice("tenant:x:suspended:1");
  auto dup = make_notification(std::string(32, 'f'), recipient, "test", "tenant:x:suspended:1", "again", now);
  CAF_CHECK(!storage::insert_notification(*db, dup));
  CAF_CHECK(!storage::find_notification(*db, dup.id));
}

CAF_TEST_FIXTURE_SCOPE_END()
