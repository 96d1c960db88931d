// The tenant actor and the tenant registry in simulated time, against a real
// storage actor on a temporary database: every write is persisted before its
// reply, validation errors change nothing, one actor per tenant even under
// concurrent first use, idle actors stop, a dead actor is replaced by one that
// loads the persisted state.
#define CAF_SUITE tenant_actor
#include <caf/test/dsl.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <nlohmann/json.hpp>

#include "actors/storage_actor.hpp"
#include "actors/tenant_registry.hpp"
#include "nostr/keys.hpp"
#include "tests/support/temp_db.hpp"

using namespace relayhost;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string alice = std::string(64, 'a');
const std::string bob = std::string(63, 'b') + "c";
const std::string nwc_secret = "7c8a9d1e5f4b3a2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c";

struct reply {
  int status = 0;
  json body;
  /// By value: CAF_CHECK_EQUAL binds its operands by reference, so a reference
  /// into a temporary reply would dangle.
  json at(const char* key) const { return body.contains(key) ? body[key] : json(); }
};

struct fixture : test_coordinator_fixture<> {
  test::temp_db tdb;
  storage_actor storage;
  std::shared_ptr<tenant_env> env;
  std::shared_ptr<view_board> views = std::make_shared<view_board>();
  tenant_registry_actor registry;
  int64_t now = 1764000000;

  fixture() {
    storage = sys.spawn(make_storage, tdb.open(), storage_options{});
    env = std::make_shared<tenant_env>();
    env->rules = relay_rules{{{"free", 0}, {"basic", 5000}, {"growth", 25000}}, {"taken-by-config"}};
    env->relay_domain = "spaces.example";
    std::array<uint8_t, 32> secret{};
    secret.fill(7);
    env->box = std::make_shared<const sealed_box>(secret);
    env->now = [this] { return now; };
    env->idle_timeout = 60s;
    env->storage_timeout = 10s;
    env->storage = storage;
    env->views = views;
    registry = sys.spawn(tenant_registry_impl, std::shared_ptr<const tenant_env>(env));
    sched.run();
  }

  ~fixture() {
    anon_send_exit(registry, caf::exit_reason::user_shutdown);
    anon_send_exit(storage, caf::exit_reason::user_shutdown);
    sched.run();
  }

  /// Sends a call and runs the system until it is answered.
  std::shared_ptr<std::optional<reply>> send(const std::string& pk, tenant_op op, std::string body = "",
                                             std::string relay_id = "", std::optional<std::string> limit = {},
                                             std::optional<std::string> cursor = {}) {
    auto out = std::make_shared<std::optional<reply>>();
    tenant_call c;
    c.op = op;
    c.body = std::move(body);
    c.relay_id = std::move(relay_id);
    c.limit = std::move(limit);
    c.cursor = std::move(cursor);
    c.respond = http::responder([out](http::api_response&& r) {
      *out = reply{r.status, json::parse(r.body)};
    });
    self->send(registry, call_atom::value, pk, std::move(c));
    return out;
  }

  reply call(const std::string& pk, tenant_op op, std::string body = "", std::string relay_id = "",
             std::optional<std::string> limit = {}, std::optional<std::string> cursor = {}) {
    auto out = send(pk, op, std::move(body), std::move(relay_id), std::move(limit), std::move(cursor));
    sched.run();
    CAF_REQUIRE(out->has_value());
    return **out;
  }

  int64_t count(const std::string& sql) {
    auto db = tdb.open();
    SQLite::Statement st(*db, sql);
    st.executeStep();
    return st.getColumn(0).getInt64();
  }

  // The scoped actor's request is answered only when the coordinator runs the
  // registry: send, run, then receive.
  registry_stats stats() {
    registry_stats out;
    auto pending = self->request(registry, caf::infinite, stats_atom::value);
    sched.run();
    pending.receive([&](registry_stats s) { out = s; }, [](caf::error&) { CAF_FAIL("stats"); });
    return out;
  }

  tenant_actor loaded(const std::string& pk) {
    tenant_actor out;
    auto pending = self->request(registry, caf::infinite, find_atom::value, pk);
    sched.run();
    pending.receive([&](tenant_actor t) { out = t; }, [](caf::error&) { CAF_FAIL("find"); });
    return out;
  }

  reply create(const std::string& pk, const std::string& subdomain, const std::string& plan = "free") {
    return call(pk, tenant_op::create_relay,
                json{{"subdomain", subdomain}, {"name", "Relay " + subdomain}, {"plan", plan}}.dump());
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(tenant_actor_tests, fixture)

CAF_TEST(get_tenant_creates_the_tenant_once) {
  auto first = call(alice, tenant_op::get_tenant);
  CAF_CHECK_EQUAL(first.status, 200);
  CAF_CHECK_EQUAL(first.body["pubkey"], alice);
  CAF_CHECK_EQUAL(first.body["status"], "active");
  CAF_CHECK_EQUAL(first.body["billing"]["nwc_connected"], false);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM tenants"), 1);
  now += 100;
  auto second = call(alice, tenant_op::get_tenant);
  CAF_CHECK_EQUAL(second.body["created_at"], first.body["created_at"]);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM tenants"), 1);
}

CAF_TEST(create_relay_is_persisted_before_the_reply) {
  auto r = create(alice, "my-relay", "basic");
  CAF_REQUIRE_EQUAL(r.status, 201);
  CAF_CHECK_EQUAL(r.body["subdomain"], "my-relay");
  CAF_CHECK_EQUAL(r.body["host"], "my-relay.spaces.example");
  CAF_CHECK_EQUAL(r.body["url"], "wss://my-relay.spaces.example");
  CAF_CHECK_EQUAL(r.body["tenant"], alice);
  CAF_CHECK_EQUAL(r.body["status"], "active");
  CAF_CHECK_EQUAL(r.body["sync"]["state"], "pending");
  CAF_CHECK_EQUAL(r.body["id"].get<std::string>().size(), 32u);
  CAF_CHECK(!r.body.contains("secret"));
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM relays WHERE subdomain = 'my-relay'"), 1);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM relay_activity WHERE active = 1 AND plan = 'basic'"), 1);
  // A paid, active relay anchors billing.
  CAF_CHECK_EQUAL(count("SELECT billing_anchor FROM tenants"), now);
  auto id = r.body["id"].get<std::string>();
  auto got = call(alice, tenant_op::get_relay, "", id);
  CAF_CHECK_EQUAL(got.status, 200);
  CAF_CHECK_EQUAL(got.body, r.body);
}

CAF_TEST(invalid_bodies_are_rejected_and_change_nothing) {
  CAF_REQUIRE_EQUAL(call(alice, tenant_op::get_tenant).status, 200);
  struct bad {
    std::string body;
    int status;
    std::string code;
    std::string field;
  };
  std::vector<bad> cases = {
    {"not json", 400, "invalid-json", ""},
    {"[1]", 400, "invalid-json", ""},
    {R"({"subdomain":"ab","name":"x","plan":"free"})", 400, "invalid-field", "subdomain"},
    {R"({"subdomain":"My-relay","name":"x","plan":"free"})", 400, "invalid-field", "subdomain"},
    {R"({"subdomain":"1relay","name":"x","plan":"free"})", 400, "invalid-field", "subdomain"},
    {R"({"subdomain":"relay-","name":"x","plan":"free"})", 400, "invalid-field", "subdomain"},
    {R"({"subdomain":"admin","name":"x","plan":"free"})", 400, "invalid-field", "subdomain"},
    {R"({"subdomain":"taken-by-config","name":"x","plan":"free"})", 400, "invalid-field", "subdomain"},
    {R"({"subdomain":"good-one","name":"","plan":"free"})", 400, "invalid-field", "name"},
    {R"({"subdomain":"good-one","name":"x","plan":"gold"})", 400, "invalid-field", "plan"},
    {R"({"subdomain":"good-one","name":"x","plan":"free","icon":"http://x/y.png"})", 400, "invalid-field", "icon"},
    {R"({"subdomain":"good-one","name":"x","plan":"free","colour":"red"})", 400, "invalid-field", "colour"},
    {R"({"subdomain":"good-one","name":"x","plan":"free","policy":{"extra":true}})", 400, "invalid-field",
     "policy.extra"},
    {R"({"subdomain":"good-one","name":"x","plan":"free","policy":{"public_join":"yes"}})", 400, "invalid-field",
     "policy.public_join"},
    {R"({"name":"x","plan":"free"})", 400, "invalid-field", "subdomain"},
  };
  for (auto& c : cases) {
    auto r = call(alice, tenant_op::create_relay, c.body);
    CAF_CHECK_EQUAL(r.status, c.status);
    CAF_CHECK_EQUAL(r.body["code"], c.code);
    if (!c.field.empty())
      CAF_CHECK_EQUAL(r.body["field"], c.field);
  }
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM relays"), 0);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM relay_activity"), 0);
}

CAF_TEST(subdomains_are_unique_across_tenants_and_relays_are_private) {
  auto a = create(alice, "shared-name");
  CAF_REQUIRE_EQUAL(a.status, 201);
  auto b = create(bob, "shared-name");
  CAF_CHECK_EQUAL(b.status, 409);
  CAF_CHECK_EQUAL(b.body["code"], "conflict");
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM relays"), 1);
  auto id = a.body["id"].get<std::string>();
  // Another tenant's relay is 404 for every route, never 403.
  CAF_CHECK_EQUAL(call(bob, tenant_op::get_relay, "", id).status, 404);
  CAF_CHECK_EQUAL(call(bob, tenant_op::update_relay, R"({"name":"mine"})", id).status, 404);
  CAF_CHECK_EQUAL(call(bob, tenant_op::deactivate_relay, "", id).status, 404);
  CAF_CHECK_EQUAL(call(bob, tenant_op::list_relays).at("items").size(), 0u);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM relays WHERE name = 'mine'"), 0);
}

CAF_TEST(updates_follow_the_rules_and_log_activity) {
  auto id = create(alice, "upd-relay").body["id"].get<std::string>();
  now += 10;
  auto up = call(alice, tenant_op::update_relay, R"({"plan":"growth","name":"New name","policy":{"public_join":true}})", id);
  CAF_REQUIRE_EQUAL(up.status, 200);
  CAF_CHECK_EQUAL(up.body["plan"], "growth");
  CAF_CHECK_EQUAL(up.body["name"], "New name");
  CAF_CHECK_EQUAL(up.body["policy"]["public_join"], true);
  CAF_CHECK_EQUAL(up.body["policy"]["strip_signatures"], false);
  CAF_CHECK_EQUAL(up.body["updated_at"], now);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM relay_activity"), 2);
  // Name-only change: no activity row.
  CAF_CHECK_EQUAL(call(alice, tenant_op::update_relay, R"({"name":"Again"})", id).status, 200);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM relay_activity"), 2);
  // Immutable subdomain, forbidden statuses, unknown fields.
  auto sub = call(alice, tenant_op::update_relay, R"({"subdomain":"other-name"})", id);
  CAF_CHECK_EQUAL(sub.status, 400);
  CAF_CHECK_EQUAL(sub.body["field"], "subdomain");
  CAF_CHECK_EQUAL(call(alice, tenant_op::update_relay, R"({"subdomain":"upd-relay"})", id).status, 200);
  CAF_CHECK_EQUAL(call(alice, tenant_op::update_relay, R"({"status":"suspended"})", id).status, 403);
  CAF_CHECK_EQUAL(call(alice, tenant_op::update_relay, R"({"status":"delinquent"})", id).status, 403);
  CAF_CHECK_EQUAL(call(alice, tenant_op::update_relay, R"({"status":"gone"})", id).status, 400);
  CAF_CHECK_EQUAL(call(alice, tenant_op::update_relay, R"({"owner":"x"})", id).status, 400);
  // Deactivate: idempotent, logged once.
  auto off = call(alice, tenant_op::deactivate_relay, "", id);
  CAF_CHECK_EQUAL(off.status, 200);
  CAF_CHECK_EQUAL(off.body["status"], "inactive");
  CAF_CHECK_EQUAL(call(alice, tenant_op::deactivate_relay, "", id).status, 200);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM relay_activity WHERE active = 0"), 1);
  auto on = call(alice, tenant_op::update_relay, R"({"status":"active"})", id);
  CAF_CHECK_EQUAL(on.body["status"], "active");
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM relay_activity"), 4);
}

CAF_TEST(concurrent_first_use_spawns_one_actor_and_one_tenant) {
  auto r1 = send(alice, tenant_op::create_relay, R"({"subdomain":"first-one","name":"a","plan":"free"})");
  auto r2 = send(alice, tenant_op::create_relay, R"({"subdomain":"second-one","name":"b","plan":"free"})");
  auto r3 = send(alice, tenant_op::get_tenant);
  sched.run();
  CAF_REQUIRE(r1->has_value() && r2->has_value() && r3->has_value());
  CAF_CHECK_EQUAL((*r1)->status, 201);
  CAF_CHECK_EQUAL((*r2)->status, 201);
  CAF_CHECK_EQUAL((*r3)->status, 200);
  CAF_CHECK_EQUAL(stats().spawned, 1u);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM tenants"), 1);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM relays"), 2);
}

CAF_TEST(idle_actors_stop_and_reload_on_next_use) {
  auto id = create(alice, "idle-relay").body["id"].get<std::string>();
  CAF_CHECK_EQUAL(stats().loaded, 1u);
  advance_time(30s);
  sched.run();
  CAF_CHECK_EQUAL(stats().loaded, 1u);
  advance_time(31s);
  sched.run();
  auto s = stats();
  CAF_CHECK_EQUAL(s.loaded, 0u);
  CAF_CHECK_EQUAL(s.stopped_idle, 1u);
  auto got = call(alice, tenant_op::get_relay, "", id);
  CAF_CHECK_EQUAL(got.status, 200);
  CAF_CHECK_EQUAL(got.body["subdomain"], "idle-relay");
  CAF_CHECK_EQUAL(stats().spawned, 2u);
}

CAF_TEST(activity_postpones_the_idle_stop) {
  create(alice, "busy-relay");
  for (int i = 0; i < 4; ++i) {
    advance_time(40s);
    sched.run();
    CAF_CHECK_EQUAL(call(alice, tenant_op::list_relays).status, 200);
  }
  CAF_CHECK_EQUAL(stats().stopped_idle, 0u);
  CAF_CHECK_EQUAL(stats().spawned, 1u);
}

CAF_TEST(a_dead_tenant_actor_is_replaced_with_the_persisted_state) {
  auto id = create(alice, "crash-relay").body["id"].get<std::string>();
  auto victim = loaded(alice);
  CAF_REQUIRE(victim);
  anon_send_exit(victim, caf::exit_reason::kill);
  sched.run();
  auto s = stats();
  CAF_CHECK_EQUAL(s.failed, 1u);
  CAF_CHECK_EQUAL(s.loaded, 0u);
  auto got = call(alice, tenant_op::get_relay, "", id);
  CAF_CHECK_EQUAL(got.status, 200);
  CAF_CHECK_EQUAL(stats().spawned, 2u);
}

CAF_TEST(a_suspended_tenant_cannot_write_relays_but_can_pay) {
  auto id = create(alice, "susp-relay").body["id"].get<std::string>();
  {
    auto db = tdb.open();
    db->exec("UPDATE tenants SET status = 'suspended', suspend_reason = 'test', suspended_at = 1");
  }
  auto victim = loaded(alice);
  CAF_REQUIRE(victim);
  anon_send_exit(victim, caf::exit_reason::kill); // reload the state written behind its back
  sched.run();
  auto c = create(alice, "other-relay");
  CAF_CHECK_EQUAL(c.status, 403);
  CAF_CHECK_EQUAL(c.at("code"), "tenant-suspended");
  CAF_CHECK_EQUAL(call(alice, tenant_op::update_relay, R"({"name":"x"})", id).at("code"), "tenant-suspended");
  CAF_CHECK_EQUAL(call(alice, tenant_op::deactivate_relay, "", id).at("code"), "tenant-suspended");
  auto uri = "nostr+walletconnect://" + bob + "?relay=wss%3A%2F%2Frelay.example&secret=" + nwc_secret;
  auto pay = call(alice, tenant_op::put_billing, json{{"nwc_url", uri}}.dump());
  CAF_CHECK_EQUAL(pay.status, 200);
  CAF_CHECK_EQUAL(pay.body["status"], "suspended");
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM relays"), 1);
}

CAF_TEST(billing_connection_is_validated_and_sealed) {
  auto bad = call(alice, tenant_op::put_billing,
                  json{{"nwc_url", "nostr+walletconnect://" + bob + "?secret=" + nwc_secret}}.dump());
  CAF_CHECK_EQUAL(bad.status, 400);
  CAF_CHECK_EQUAL(bad.body["field"], "nwc_url");
  CAF_CHECK(bad.body.dump().find(nwc_secret) == std::string::npos);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM tenants"), 0);
  CAF_CHECK_EQUAL(call(alice, tenant_op::put_billing, R"({"nwc":"x"})").at("field"), "nwc");
  auto uri = "nostr+walletconnect://" + bob + "?relay=wss%3A%2F%2Frelay.example&secret=" + nwc_secret;
  auto ok = call(alice, tenant_op::put_billing, json{{"nwc_url", uri}}.dump());
  CAF_REQUIRE_EQUAL(ok.status, 200);
  CAF_CHECK_EQUAL(ok.body["billing"]["nwc_connected"], true);
  CAF_CHECK_EQUAL(ok.body["billing"]["wallet_pubkey"], bob);
  CAF_CHECK_EQUAL(ok.body["billing"]["nwc_status"], "unverified");
  CAF_CHECK(ok.body.dump().find(nwc_secret) == std::string::npos);
  {
    auto db = tdb.open();
    SQLite::Statement st(*db, "SELECT nwc_url_enc FROM tenants");
    CAF_REQUIRE(st.executeStep());
    std::string stored(static_cast<const char*>(st.getColumn(0).getBlob()), st.getColumn(0).getBytes());
    CAF_CHECK(stored.find(nwc_secret) == std::string::npos);
    CAF_CHECK(stored.find("walletconnect") == std::string::npos);
    auto opened = env->box->open(std::vector<uint8_t>(stored.begin(), stored.end()), "nwc:" + alice);
    CAF_REQUIRE(opened.has_value());
    CAF_CHECK_EQUAL(*opened, uri);
  }
  auto off = call(alice, tenant_op::put_billing, R"({"nwc_url":null})");
  CAF_CHECK_EQUAL(off.body["billing"]["nwc_connected"], false);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM tenants WHERE nwc_url_enc IS NULL"), 1);
}

CAF_TEST(relays_are_paginated_in_creation_order) {
  for (int i = 0; i < 5; ++i)
    CAF_REQUIRE_EQUAL(create(alice, "page-relay-" + std::to_string(i)).status, 201);
  std::vector<std::string> seen;
  std::optional<std::string> cursor;
  int pages = 0;
  do {
    auto r = call(alice, tenant_op::list_relays, "", "", std::string("2"), cursor);
    CAF_REQUIRE_EQUAL(r.status, 200);
    for (auto& item : r.body["items"])
      seen.push_back(item["subdomain"]);
    cursor = r.body["next_cursor"].is_null() ? std::nullopt
                                             : std::optional<std::string>(r.body["next_cursor"].get<std::string>());
    ++pages;
  } while (cursor && pages < 10);
  CAF_CHECK_EQUAL(pages, 3);
  CAF_REQUIRE_EQUAL(seen.size(), 5u);
  for (int i = 0; i < 5; ++i)
    CAF_CHECK_EQUAL(seen[i], "page-relay-" + std::to_string(i));
  CAF_CHECK_EQUAL(call(alice, tenant_op::list_relays, "", "", std::string("0")).at("field"), "limit");
  CAF_CHECK_EQUAL(call(alice, tenant_op::list_relays, "", "", std::string("501")).at("field"), "limit");
  CAF_CHECK_EQUAL(call(alice, tenant_op::list_relays, "", "", std::nullopt, std::string("zzz")).at("field"),
                  "cursor");
  auto invoices = call(alice, tenant_op::list_invoices);
  CAF_CHECK_EQUAL(invoices.status, 200);
  CAF_CHECK_EQUAL(invoices.at("items").size(), 0u);
}

CAF_TEST(the_published_view_follows_every_committed_change_and_ends_with_its_actor) {
  CAF_CHECK_EQUAL(views->size(), 0u);
  auto r = create(alice, "view-relay");
  auto id = r.body["id"].get<std::string>();
  auto v = views->find(alice);
  CAF_REQUIRE(v != nullptr);
  CAF_REQUIRE(v->row != nullptr);  // created with the first relay
  // What the io threads answer is what the actor answers.
  auto listed = call(alice, tenant_op::list_relays);
  auto from_view = json::parse(render_relay_page(*v, page_request{}, env->relay_domain));
  CAF_CHECK_EQUAL(from_view, listed.body);
  auto tenant_now = call(alice, tenant_op::get_tenant);
  auto tenant_from_view = json::parse(render_tenant(*v->row));
  CAF_CHECK_EQUAL(tenant_from_view, tenant_now.body);
  // A rejected write publishes nothing.
  CAF_CHECK_EQUAL(call(alice, tenant_op::update_relay, R"({"plan":"nope"})", id).status, 400);
  CAF_CHECK(views->find(alice) == v);
  CAF_CHECK_EQUAL(call(alice, tenant_op::update_relay, R"({"name":"Renamed"})", id).status, 200);
  auto v2 = views->find(alice);
  CAF_REQUIRE(v2 != v);
  CAF_REQUIRE(find_relay(*v2, id) != nullptr);
  CAF_CHECK_EQUAL(find_relay(*v2, id)->name, "Renamed");
  CAF_CHECK_EQUAL(find_relay(*v, id)->name, "Relay view-relay");  // an old view never changes
  // Bob's view is his own.
  create(bob, "bob-relay");
  auto bv = views->find(bob);
  CAF_REQUIRE(bv != nullptr);
  CAF_CHECK(find_relay(*bv, id) == nullptr);
  // A killed actor's view is withdrawn; its successor publishes the persisted state.
  auto victim = loaded(alice);
  CAF_REQUIRE(victim);
  anon_send_exit(victim, caf::exit_reason::kill);
  sched.run();
  CAF_CHECK(views->find(alice) == nullptr);
  CAF_CHECK_EQUAL(call(alice, tenant_op::get_relay, "", id).status, 200);
  auto v3 = views->find(alice);
  CAF_REQUIRE(v3 != nullptr);
  CAF_REQUIRE(find_relay(*v3, id) != nullptr);
  CAF_CHECK_EQUAL(find_relay(*v3, id)->name, "Renamed");
}

CAF_TEST(reads_from_the_view_keep_the_actor_loaded_and_idle_actors_withdraw_it) {
  create(alice, "read-only-relay");
  for (int i = 0; i < 4; ++i) {
    advance_time(40s);
    sched.run();
    CAF_CHECK(views->find(alice) != nullptr);  // a read on an io thread, no message
  }
  CAF_CHECK_EQUAL(stats().stopped_idle, 0u);
  // No reads for a whole idle period: the actor stops and takes its view along.
  for (int i = 0; i < 3 && views->size() > 0; ++i) {
    advance_time(61s);
    sched.run();
  }
  CAF_CHECK_EQUAL(views->size(), 0u);
  CAF_CHECK_EQUAL(stats().stopped_idle, 1u);
  CAF_CHECK_EQUAL(stats().spawned, 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()
