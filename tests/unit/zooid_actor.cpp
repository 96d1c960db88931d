// The zooid client actor in simulated time, with a scripted zooid behind its
// transport: POST then PATCH, the secret only in the POST, the latest desired
// state winning over a call in flight, the backoff schedule of zooid.md, the two
// meanings of 409, PATCH 404 → POST, reconciliation at start; and the outcomes
// reaching the tenant's relays (memory and database).
#define CAF_SUITE zooid_actor
#include <caf/test/dsl.hpp>

#include <deque>
#include <map>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <nlohmann/json.hpp>

#include "actors/storage_actor.hpp"
#include "actors/tenant_registry.hpp"
#include "actors/zooid_actor.hpp"
#include "tests/support/temp_db.hpp"

using namespace relayhost;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string alice = nostr::secret_key::generate().pubkey_hex();
const std::string admin = nostr::secret_key::generate().pubkey_hex();

struct pending_call {
  zooid_request req;
  std::function<void(zooid_answer)> done;
  json body() const { return json::parse(req.body); }
};

struct fixture : test_coordinator_fixture<> {
  test::temp_db tdb;
  storage_actor storage;
  std::shared_ptr<tenant_env> env;
  std::shared_ptr<zooid_env> zenv;
  zooid_actor zooid;
  tenant_registry_actor registry;
  std::shared_ptr<std::deque<pending_call>> calls = std::make_shared<std::deque<pending_call>>();
  int64_t now = 1764000000;

  fixture() {
    storage = sys.spawn(make_storage, tdb.open(), storage_options{});
    std::array<uint8_t, 32> secret{};
    secret.fill(9);
    auto box = std::make_shared<const sealed_box>(secret);
    zooid_context ctx{"spaces.example", {admin}, {{"free", 0}, {"basic", 5000}}};
    zenv = std::make_shared<zooid_env>();
    zenv->ctx = ctx;
    zenv->url_base = "http://127.0.0.1:8032";
    zenv->box = box;
    zenv->platform_signer = std::make_shared<const nostr::signer>(nostr::secret_key::generate());
    zenv->now = [this] { return now; };
    zenv->retry_base = 30s;
    zenv->retry_max = 100s;
    zenv->retry_limit = 4;
    zenv->transport = [q = calls](zooid_request req, std::function<void(zooid_answer)> done) {
      q->push_back({std::move(req), std::move(done)});
    };
    zenv->storage = storage;
    zenv->health = std::make_shared<zooid_health>();
    zooid = sys.spawn(zooid_actor_impl, std::shared_ptr<const zooid_env>(zenv));
    env = std::make_shared<tenant_env>();
    env->rules = relay_rules{ctx.plans, {}};
    env->relay_domain = ctx.relay_domain;
    env->box = box;
    env->now = [this] { return now; };
    env->idle_timeout = 3600s;
    env->storage_timeout = 10s;
    env->storage = storage;
    env->zooid = zooid;
    env->zooid_ctx = ctx;
    registry = sys.spawn(tenant_registry_impl, std::shared_ptr<const tenant_env>(env));
    sched.run();
  }

  void start() {
    anon_send(zooid, start_atom::value, registry);
    sched.run();
  }

  ~fixture() {
    anon_send_exit(registry, caf::exit_reason::user_shutdown);
    anon_send_exit(zooid, caf::exit_reason::user_shutdown);
    anon_send_exit(storage, caf::exit_reason::user_shutdown);
    sched.run();
  }

  json api(tenant_op op, std::string body = "", std::string id = "") {
    auto out = std::make_shared<json>();
    tenant_call c;
    c.op = op;
    c.body = std::move(body);
    c.relay_id = std::move(id);
    c.respond = http::responder([out](http::api_response&& r) { *out = json::parse(r.body); });
    self->send(registry, call_atom::value, alice, std::move(c));
    sched.run();
    return *out;
  }

  zooid_stats zooid_stats_now() {
    zooid_stats out;
    auto h = self->request(zooid, caf::infinite, stats_atom::value);
    sched.run();  // the answer is in our mailbox before receive looks
    h.receive([&](zooid_stats& st) { out = st; }, [](caf::error&) { CAF_FAIL("no stats"); });
    return out;
  }

  pending_call take() {
    CAF_REQUIRE(!calls->empty());
    auto c = std::move(calls->front());
    calls->pop_front();
    return c;
  }

  void answer(pending_call& c, int status, std::string body = R"({"message":"ok"})") {
    c.done(zooid_answer{status, std::move(body), status == 0 ? "connection refused" : ""});
    sched.run();
  }

  /// Sends a tenant call without running the system.
  std::shared_ptr<json> post(tenant_op op, std::string body, std::string admin_key = "") {
    auto out = std::make_shared<json>();
    tenant_call c;
    c.op = op;
    c.body = std::move(body);
    c.admin = std::move(admin_key);
    c.respond = http::responder([out](http::api_response&& r) { *out = json::parse(r.body); });
    self->send(registry, call_atom::value, alice, std::move(c));
    return out;
  }

  /// Answers every zooid call with success until none is left; returns the
  /// last body pushed per relay path (POST bodies merged with later PATCHes).
  std::map<std::string, json> drain_zooid() {
    std::map<std::string, json> last;
    sched.run();
    while (!calls->empty()) {
      auto c = take();
      auto b = c.body();
      auto& cfg = last[c.req.path];
      if (cfg.is_null())
        cfg = json::object();
      cfg.merge_patch(b);
      answer(c, c.req.method == "POST" ? 201 : 200);
    }
    return last;
  }

  void check_no_active_relay_anywhere(const std::map<std::string, json>& zooid_view) {
    auto relays = api(tenant_op::list_relays)["items"];
    for (auto& r : relays)
      CAF_CHECK_NOT_EQUAL(r["status"].get<std::string>(), "active");
    CAF_CHECK_EQUAL(db_int("SELECT count(*) FROM relays WHERE status = 'active'"), 0);
    for (auto& [path, cfg] : zooid_view)
      CAF_CHECK_EQUAL(cfg.value("inactive", false), true);
  }

  json relay_row(const std::string& id) {
    return api(tenant_op::get_relay, "", id);
  }

  // By value: CAF_CHECK_EQUAL binds operands by reference (no temporaries' innards).
  std::string state_of(const std::string& id) {
    return relay_row(id)["sync"]["state"].get<std::string>();
  }

  int64_t db_int(const std::string& sql) {
    auto db = tdb.open();
    SQLite::Statement st(*db, sql);
    st.executeStep();
    return st.getColumn(0).getInt64();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(zooid_actor_tests, fixture)

CAF_TEST(create_posts_the_full_config_with_the_secret_then_patches_without_it) {
  start();
  auto r = api(tenant_op::create_relay, R"({"subdomain":"my-relay","name":"Mine","plan":"basic"})");
  auto id = r["id"].get<std::string>();
  auto post = take();
  CAF_CHECK_EQUAL(post.req.method, "POST");
  CAF_CHECK_EQUAL(post.req.path, "/relay/" + id);
  CAF_CHECK(post.req.authorization.rfind("Nostr ", 0) == 0);
  auto b = post.body();
  CAF_CHECK_EQUAL(b["host"], "my-relay.spaces.example");
  CAF_CHECK_EQUAL(b["schema"], "my_relay");
  CAF_CHECK_EQUAL(b["inactive"], false);
  CAF_CHECK_EQUAL(b["info"]["pubkey"], alice);
  CAF_CHECK_EQUAL(b["info"]["name"], "Mine");
  CAF_CHECK_EQUAL(b["blossom"]["enabled"], true);
  CAF_CHECK_EQUAL(b["groups"]["enabled"], true);
  CAF_CHECK_EQUAL(b["roles"]["admin"]["pubkeys"], json::array({admin}));
  CAF_CHECK_EQUAL(b["roles"]["admin"]["can_manage"], true);
  auto secret = b["secret"].get<std::string>();
  CAF_CHECK_EQUAL(secret.size(), 64u);
  CAF_CHECK(nostr::secret_key::from_hex(secret).has_value());
  CAF_CHECK_EQUAL(state_of(id), "pending");
  answer(post, 201);
  auto synced = relay_row(id);
  CAF_CHECK_EQUAL(synced["sync"]["state"], "synced");
  CAF_CHECK_EQUAL(synced["sync"]["attempts"], 1);
  CAF_CHECK_EQUAL(synced["sync"]["last_attempt_at"], now);
  CAF_CHECK_EQUAL(db_int("SELECT zooid_provisioned FROM relays"), 1);
  CAF_CHECK_EQUAL(db_int("SELECT count(*) FROM relays WHERE sync_state = 'synced'"), 1);

  api(tenant_op::update_relay, R"({"plan":"free","name":"Renamed"})", id);
  auto patch = take();
  CAF_CHECK_EQUAL(patch.req.method, "PATCH");
  auto pb = patch.body();
  CAF_CHECK(!pb.contains("secret"));
  CAF_CHECK_EQUAL(pb["blossom"]["enabled"], false);
  CAF_CHECK_EQUAL(pb["info"]["name"], "Renamed");
  CAF_CHECK(!pb["roles"].contains("member"));
  answer(patch, 200);
  api(tenant_op::deactivate_relay, "", id);
  auto off = take();
  CAF_CHECK_EQUAL(off.req.method, "PATCH");
  auto off_body = off.body();
  CAF_CHECK_EQUAL(off_body["inactive"], true);
  answer(off, 200);
  CAF_CHECK_EQUAL(state_of(id), "synced");
  CAF_CHECK(calls->empty());
}

CAF_TEST(the_latest_desired_state_wins_over_a_call_in_flight) {
  start();
  auto id = api(tenant_op::create_relay, R"({"subdomain":"race-relay","name":"A","plan":"free"})")["id"].get<std::string>();
  auto post = take();
  api(tenant_op::update_relay, R"({"name":"B"})", id);
  api(tenant_op::update_relay, R"({"name":"C"})", id);
  CAF_CHECK(calls->empty()); // one call in flight per relay
  answer(post, 201);
  // The POST's outcome is about name A: the relay stays pending.
  CAF_CHECK_EQUAL(state_of(id), "pending");
  auto patch = take();
  CAF_CHECK_EQUAL(patch.req.method, "PATCH");
  auto patch_body = patch.body();
  CAF_CHECK_EQUAL(patch_body["info"]["name"], "C");
  answer(patch, 200);
  CAF_CHECK_EQUAL(state_of(id), "synced");
  CAF_CHECK(calls->empty());
}

CAF_TEST(calls_in_flight_are_capped_and_the_rest_wait_their_turn_in_order) {
  zenv->max_in_flight = 2;  // the actor reads its env on each decision
  start();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(api(tenant_op::create_relay,
                      R"({"subdomain":"capped-)" + std::to_string(i) + R"(","name":"A","plan":"free"})")["id"]
                    .get<std::string>());
  CAF_CHECK_EQUAL(calls->size(), 2u);
  auto stats = [&] {
    auto h = self->request(zooid, caf::infinite, stats_atom::value);
    sched.run();
    zooid_stats out;
    h.receive([&](zooid_stats s) { out = s; }, [](caf::error&) { CAF_FAIL("no stats"); });
    return out;
  };
  auto s1 = stats();
  CAF_CHECK_EQUAL(s1.in_flight, 2u);
  CAF_CHECK_EQUAL(s1.queued, 5u);
  // A change to a waiting relay does not take a second place in line.
  api(tenant_op::update_relay, R"({"name":"B"})", ids[3]);
  CAF_CHECK_EQUAL(calls->size(), 2u);
  std::vector<std::string> order;
  while (!calls->empty()) {
    auto c = take();
    order.push_back(c.req.path);
    if (c.req.path == "/relay/" + ids[3]) {
      auto b = c.body();
      CAF_CHECK_EQUAL(b["info"]["name"], "B");  // the latest desired state
    }
    answer(c, 201);
    CAF_CHECK_LESS_OR_EQUAL(calls->size(), 2u);
  }
  std::vector<std::string> expected;
  for (auto& id : ids)
    expected.push_back("/relay/" + id);
  CAF_CHECK_EQUAL(order, expected);
  for (auto& id : ids)
    CAF_CHECK_EQUAL(state_of(id), "synced");
  auto s2 = stats();
  CAF_CHECK_EQUAL(s2.in_flight, 0u);
  CAF_CHECK_EQUAL(s2.queued, 0u);
  CAF_CHECK_EQUAL(s2.synced, 5u);
}

CAF_TEST(a_call_without_answer_is_confirmed_by_one_more_push_after_the_window) {
  start();
  auto id = api(tenant_op::create_relay, R"({"subdomain":"lost-answer","name":"A","plan":"free"})")["id"].get<std::string>();
  auto post = take();
  answer(post, 201);
  CAF_REQUIRE(calls->empty());
  // zooid gets PATCH B but its answer never comes (timeout): it may apply it later.
  api(tenant_op::update_relay, R"({"name":"B"})", id);
  auto lost = take();
  answer(lost, 0);
  CAF_CHECK_EQUAL(state_of(id), "pending");
  advance_time(30s);  // backoff
  sched.run();
  auto again = take();
  answer(again, 200);
  CAF_CHECK_EQUAL(state_of(id), "synced");
  CAF_CHECK(calls->empty());
  // A change inside the window (retry_max = 100 s after the lost call) is pushed
  // as usual; the confirmation then waits for the window's end and pushes the latest.
  now += 40;
  api(tenant_op::update_relay, R"({"name":"C"})", id);
  auto c = take();
  answer(c, 200);
  CAF_CHECK_EQUAL(state_of(id), "synced");
  advance_time(59s);
  sched.run();
  CAF_CHECK(calls->empty());
  advance_time(1s);
  sched.run();
  auto confirm = take();
  CAF_CHECK_EQUAL(confirm.req.method, "PATCH");
  auto b = confirm.body();
  CAF_CHECK_EQUAL(b["info"]["name"], "C");
  now += 60;  // the window has passed
  answer(confirm, 200);
  CAF_CHECK_EQUAL(state_of(id), "synced");
  advance_time(1000s);
  sched.run();
  CAF_CHECK(calls->empty());  // confirmed once, then done
  auto h = self->request(zooid, caf::infinite, stats_atom::value);
  sched.run();
  h.receive([](zooid_stats s) { CAF_CHECK_EQUAL(s.confirmations, 1u); CAF_CHECK_EQUAL(s.queued, 0u); },
            [](caf::error&) { CAF_FAIL("no stats"); });
}

CAF_TEST(transient_failures_back_off_then_fail_at_the_limit) {
  start();
  auto id = api(tenant_op::create_relay, R"({"subdomain":"down-relay","name":"A","plan":"free"})")["id"].get<std::string>();
  auto c = take();
  answer(c, 0);
  auto row = relay_row(id);
  CAF_CHECK_EQUAL(row["sync"]["state"], "pending");
  CAF_CHECK_EQUAL(row["sync"]["attempts"], 1);
  CAF_CHECK_EQUAL(row["sync"]["error"], "zooid unreachable: connection refused");
  CAF_CHECK_EQUAL(zenv->health->state.load(), static_cast<int>(zooid_health::unreachable));
  // 30 s, then 60 s, then 100 s (capped), then failed after the 4th attempt.
  for (auto delay : {30s, 60s, 100s}) {
    advance_time(delay - 1s);
    sched.run();
    CAF_CHECK(calls->empty());
    advance_time(1s);
    sched.run();
    CAF_REQUIRE_EQUAL(calls->size(), 1u);
    auto again = take();
    CAF_CHECK_EQUAL(again.req.method, "POST");
    answer(again, 503, R"({"error":"busy"})");
  }
  row = relay_row(id);
  CAF_CHECK_EQUAL(row["sync"]["state"], "failed");
  CAF_CHECK_EQUAL(row["sync"]["attempts"], 4);
  CAF_CHECK_EQUAL(row["sync"]["error"], "zooid answered 503: busy");
  advance_time(3600s);
  sched.run();
  CAF_CHECK(calls->empty());
  // A change starts over.
  api(tenant_op::update_relay, R"({"name":"B"})", id);
  auto fresh = take();
  answer(fresh, 201);
  CAF_CHECK_EQUAL(state_of(id), "synced");
}

CAF_TEST(the_two_meanings_of_409_and_patch_404) {
  start();
  auto a = api(tenant_op::create_relay, R"({"subdomain":"exists-relay","name":"A","plan":"free"})")["id"].get<std::string>();
  auto post = take();
  answer(post, 409, R"({"error":"relay with this id already exists"})");
  auto patch = take();
  CAF_CHECK_EQUAL(patch.req.method, "PATCH");
  CAF_CHECK(!patch.body().contains("secret"));
  answer(patch, 200);
  CAF_CHECK_EQUAL(state_of(a), "synced");

  auto b = api(tenant_op::create_relay, R"({"subdomain":"clash-relay","name":"B","plan":"free"})")["id"].get<std::string>();
  auto clash = take();
  answer(clash, 409, R"({"error":"schema \"clash_relay\" is already in use"})");
  auto row = relay_row(b);
  CAF_CHECK_EQUAL(row["sync"]["state"], "failed");
  CAF_CHECK_EQUAL(row["sync"]["error"], "zooid answered 409: schema \"clash_relay\" is already in use");
  advance_time(3600s);
  sched.run();
  CAF_CHECK(calls->empty()); // not retried blindly

  // zooid lost the config: PATCH 404 → POST with the same secret as before.
  api(tenant_op::update_relay, R"({"name":"A2"})", a);
  auto lost = take();
  CAF_CHECK_EQUAL(lost.req.method, "PATCH");
  answer(lost, 404, R"({"error":"relay not found"})");
  auto repost = take();
  CAF_CHECK_EQUAL(repost.req.method, "POST");
  auto repost_body = repost.body();
  auto post_body = post.body();
  CAF_CHECK_EQUAL(repost_body["secret"], post_body["secret"]);
  answer(repost, 201);
  CAF_CHECK_EQUAL(state_of(a), "synced");
}

CAF_TEST(start_reconciles_every_relay_not_synced) {
  // Relays created while the zooid client is not started yet are queued...
  auto id1 = api(tenant_op::create_relay, R"({"subdomain":"early-one","name":"A","plan":"free"})")["id"].get<std::string>();
  auto id2 = api(tenant_op::create_relay, R"({"subdomain":"early-two","name":"B","plan":"free"})")["id"].get<std::string>();
  CAF_CHECK(calls->empty());
  start();
  // ...and pushed once each (the reconciliation read finds the same two).
  CAF_REQUIRE_EQUAL(calls->size(), 2u);
  auto stats = zooid_stats_now();
  CAF_CHECK_EQUAL(stats.queued, 2u);
  CAF_CHECK_EQUAL(stats.in_flight, 2u);
  auto c1 = take();
  auto c2 = take();
  CAF_CHECK_EQUAL(c1.req.path, "/relay/" + id1);
  CAF_CHECK_EQUAL(c2.req.path, "/relay/" + id2);
  answer(c1, 201);
  stats = zooid_stats_now();
  CAF_CHECK_EQUAL(stats.queued, 1u);
  CAF_CHECK_EQUAL(stats.in_flight, 1u);
  answer(c2, 201);
  CAF_CHECK_EQUAL(db_int("SELECT count(*) FROM relays WHERE sync_state = 'synced'"), 2);
  CAF_CHECK(calls->empty());
  stats = zooid_stats_now();
  CAF_CHECK_EQUAL(stats.queued, 0u);
  CAF_CHECK_EQUAL(stats.in_flight, 0u);
  CAF_CHECK_EQUAL(stats.synced, 2u);
}

CAF_TEST(a_suspension_racing_a_tenant_write_ends_consistent_write_first) {
  start();
  api(tenant_op::create_relay, R"({"subdomain":"existing-one","name":"A","plan":"free"})");
  drain_zooid();
  // Both arrive before either is handled: the tenant's write, then the suspension.
  auto write = post(tenant_op::create_relay, R"({"subdomain":"racing-one","name":"B","plan":"free"})");
  auto susp = post(tenant_op::admin_set_status, R"({"status":"suspended","reason":"race"})", admin);
  auto zooid_view = drain_zooid();
  CAF_CHECK_EQUAL((*write)["status"], "active");  // created first, then suspended with the rest
  CAF_CHECK_EQUAL((*susp)["status"], "suspended");
  auto relays = api(tenant_op::list_relays)["items"];
  CAF_CHECK_EQUAL(relays.size(), 2u);
  check_no_active_relay_anywhere(zooid_view);
  CAF_CHECK_EQUAL(db_int("SELECT count(*) FROM relays WHERE suspended_by = 'tenant'"), 2);
}

CAF_TEST(a_suspension_racing_a_tenant_write_ends_consistent_suspension_first) {
  start();
  api(tenant_op::create_relay, R"({"subdomain":"existing-two","name":"A","plan":"free"})");
  drain_zooid();
  auto susp = post(tenant_op::admin_set_status, R"({"status":"suspended","reason":"race"})", admin);
  auto write = post(tenant_op::create_relay, R"({"subdomain":"racing-two","name":"B","plan":"free"})");
  auto reactivate = post(tenant_op::update_relay, R"({"status":"active"})");
  auto zooid_view = drain_zooid();
  CAF_CHECK_EQUAL((*susp)["status"], "suspended");
  CAF_CHECK_EQUAL((*write)["code"], "tenant-suspended");
  CAF_CHECK_EQUAL(api(tenant_op::list_relays)["items"].size(), 1u);
  check_no_active_relay_anywhere(zooid_view);
  // Lifting brings back exactly the relay the suspension changed.
  auto lift = post(tenant_op::admin_set_status, R"({"status":"active"})", admin);
  drain_zooid();
  CAF_CHECK_EQUAL((*lift)["status"], "active");
  CAF_CHECK_EQUAL(db_int("SELECT count(*) FROM relays WHERE status = 'active'"), 1);
  CAF_CHECK_EQUAL(db_int("SELECT count(*) FROM audit_log"), 2);
}


// issue 11: /healthz must not say "unknown" for an idle server. With no call
// answered lately, the actor probes zooid (an unauthenticated GET, short timeout);
// a fresh outcome of a real call needs no probe; a probe in flight is not doubled.
CAF_TEST(an_idle_zooid_is_probed_and_a_fresh_outcome_needs_no_probe) {
  zenv->probe_interval = 5s;
  zenv->probe_after = 10s;
  start();
  // Nothing has answered since start: the first tick probes at once.
  auto probe = take();
  CAF_CHECK_EQUAL(probe.req.method, "GET");
  CAF_CHECK_EQUAL(probe.req.path, "/");
  CAF_CHECK(probe.req.authorization.empty());
  CAF_CHECK(probe.req.timeout == std::chrono::milliseconds{2000});
  CAF_CHECK(calls->empty());
  answer(probe, 401, R"({"error":"missing authorization header"})");  // zooid checks auth first
  CAF_CHECK_EQUAL(zenv->health->state.load(), static_cast<int>(zooid_health::ok));
  CAF_CHECK_EQUAL(zenv->health->at.load(), now);
  // 5 s later the outcome is still fresh: no probe.
  now += 5;
  advance_time(5s);
  sched.run();
  CAF_CHECK(calls->empty());
  // A real call's outcome counts as fresh too.
  api(tenant_op::create_relay, R"({"subdomain":"probed","name":"A","plan":"free"})");
  now += 4;
  auto post = take();
  answer(post, 201);
  now += 5;
  advance_time(5s);
  sched.run();
  CAF_CHECK(calls->empty());
  // 11 s after the last answer: probed; no answer (zooid down) → unreachable.
  now += 6;
  advance_time(5s);
  sched.run();
  auto second = take();
  CAF_CHECK(second.req.authorization.empty());
  // Unanswered so far: the next tick does not send another.
  now += 5;
  advance_time(5s);
  sched.run();
  CAF_CHECK(calls->empty());
  answer(second, 0);
  CAF_CHECK_EQUAL(zenv->health->state.load(), static_cast<int>(zooid_health::unreachable));
  CAF_CHECK_EQUAL(zooid_stats_now().probes, 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()
