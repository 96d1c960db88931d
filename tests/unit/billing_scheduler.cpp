// The billing scheduler with real tenant actors on a real storage actor, in
// simulated time, against a scripted platform wallet: a period that closes
// becomes one invoice (a period that cost nothing none) and its bolt11 from the
// wallet; the scheduler never has more than its bound of tenants billing at once
// (the wallet sees at most that many make_invoice in flight); a wallet that fails
// leaves the invoice open without a bolt11, backs that tenant off, and the next
// attempt after the backoff fills it without a second invoice; a new scheduler
// on the same database (a restart) bills nothing twice; with billing disabled no
// pass runs.
#define CAF_SUITE billing_scheduler
#include <set>
#include <caf/test/dsl.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <nlohmann/json.hpp>

#include "actors/billing_scheduler.hpp"
#include "actors/storage_actor.hpp"
#include "actors/tenant_registry.hpp"
#include "billing/period.hpp"
#include "tests/support/temp_db.hpp"

using namespace relayhost;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// The scripted platform wallet: make_invoice requests are held until the test
// answers them (ok with a fresh hash, or an error), so concurrency is visible. A
// dynamically typed actor behind an nwc_actor handle, so that the test can tell it
// to answer (promises are delivered from inside the actor).
struct wallet_script {
  std::vector<std::pair<std::string, caf::response_promise>> held;  // params, promise
  size_t max_held = 0;
  size_t total = 0;
  int hashes = 0;
  std::set<std::string> settled;  // payment hashes lookup_invoice reports settled
  size_t lookups = 0;
};

caf::behavior scripted_wallet(caf::event_based_actor* self, std::shared_ptr<wallet_script> s) {
  return {
    [self, s](nwc_atom, std::string& method, std::string& params) -> caf::result<nwc_result> {
      if (method == "lookup_invoice") {
        ++s->lookups;
        auto hash = json::parse(params).at("payment_hash").get<std::string>();
        bool paid = s->settled.count(hash) > 0;
        json result{{"type", "incoming"}, {"payment_hash", hash}, {"state", paid ? "settled" : "pending"}};
        if (paid)
          result["settled_at"] = 20;
        return nwc_result{nwc_result::ok, "", "", result.dump(), ""};
      }
      if (method != "make_invoice")
        return nwc_result{nwc_result::wallet_error, "NOT_IMPLEMENTED", "", "", ""};
      ++s->total;
      s->held.emplace_back(params, self->make_response_promise());
      s->max_held = std::max(s->max_held, s->held.size());
      return caf::delegated<nwc_result>{};
    },
    // The test: answer every held request, ok (error "") or with the error code.
    [s](retry_atom, const std::string& error) {
      auto held = std::move(s->held);
      s->held.clear();
      for (auto& [params, rp] : held) {
        if (!error.empty()) {
          rp.deliver(nwc_result{nwc_result::wallet_error, error, "wallet down", "", ""});
          continue;
        }
        auto p = json::parse(params);
        char hash[65];
        std::snprintf(hash, sizeof hash, "%064d", ++s->hashes);
        json result{{"type", "incoming"}, {"invoice", "lnbcrt" + std::to_string(s->hashes)},
                    {"payment_hash", hash}, {"amount", p["amount"]}, {"created_at", 10}, {"expires_at", 3610}};
        rp.deliver(nwc_result{nwc_result::ok, "", "", result.dump(), ""});
      }
    },
  };
}

std::string pubkey(int i) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%06d", i);
  return std::string(58, 'a') + buf;
}

struct fixture : test_coordinator_fixture<> {
  test::temp_db tdb;
  storage_actor storage;
  std::shared_ptr<tenant_env> env;
  tenant_registry_actor registry;
  std::shared_ptr<wallet_script> script = std::make_shared<wallet_script>();
  caf::actor wallet_actor;
  nwc_actor wallet;
  std::shared_ptr<platform_wallet_state> wallet_state = std::make_shared<platform_wallet_state>();
  std::shared_ptr<billing_counters> counters = std::make_shared<billing_counters>();
  billing_scheduler_actor scheduler;
  int64_t now = 1801353600;  // billing clock: 2027-01-31T00:00:00Z
  int64_t real = 1764000000;

  fixture() {
    storage = sys.spawn(make_storage, tdb.open(), storage_options{});
    wallet_actor = sys.spawn(scripted_wallet, script);
    wallet = caf::actor_cast<nwc_actor>(wallet_actor);
    platform_wallet_check ok;
    ok.enabled = ok.definite = true;
    wallet_state->set(ok);
    env = std::make_shared<tenant_env>();
    env->rules = relay_rules{{{"free", 0}, {"basic", 5000}, {"growth", 25000}}, {}};
    env->relay_domain = "spaces.example";
    std::array<uint8_t, 32> secret{};
    secret.fill(7);
    env->box = std::make_shared<const sealed_box>(secret);
    env->now = [this] { return now; };
    env->real_now = [this] { return real; };
    env->idle_timeout = 600s;
    env->storage_timeout = 10s;
    env->storage = storage;
    env->platform_wallet = wallet_state;
    env->platform_nwc = wallet;
    env->platform_name = "Spaces";
    env->invoice_expiry_seconds = 3600;
    env->billing = counters;
    registry = sys.spawn(tenant_registry_impl, std::shared_ptr<const tenant_env>(env));
    scheduler = new_scheduler(4);
    sched.run();
  }

  ~fixture() {
    for (auto a : {caf::actor_cast<caf::actor>(scheduler), caf::actor_cast<caf::actor>(registry),
                   caf::actor_cast<caf::actor>(wallet), caf::actor_cast<caf::actor>(storage)})
      anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched.run();
  }

  billing_scheduler_actor new_scheduler(size_t concurrency) {
    auto s = std::make_shared<billing_scheduler_env>();
    s->storage = storage;
    s->registry = registry;
    s->wallet = wallet_state;
    s->now = [this] { return now; };
    s->real_now = [this] { return real; };
    s->tick = 60s;
    s->concurrency = concurrency;
    s->page_size = 7;  // several pages per pass
    s->counters = counters;
    return sys.spawn(billing_scheduler_impl, std::shared_ptr<const billing_scheduler_env>(s));
  }

  int call(const std::string& pk, tenant_op op, std::string body = "", std::string id = "") {
    auto out = std::make_shared<int>(0);
    tenant_call c;
    c.op = op;
    c.body = std::move(body);
    c.relay_id = std::move(id);
    c.respond = http::responder([out](http::api_response&& r) { *out = r.status; });
    self->send(registry, call_atom::value, pk, std::move(c));
    sched.run();
    return *out;
  }

  void relay(const std::string& pk, const std::string& sub, const std::string& plan) {
    CAF_REQUIRE_EQUAL(call(pk, tenant_op::create_relay, json{{"subdomain", sub}, {"name", sub}, {"plan", plan}}.dump()),
                      201);
  }

  void pass() {
    self->send(scheduler, tick_atom::value, true);
    sched.run();
  }

  /// Answers every held make_invoice: ok (a fresh hash) or the error code.
  void answer_all(const std::string& error = "") {
    self->send(wallet_actor, retry_atom::value, error);
    sched.run();
  }

  int64_t count(const std::string& sql) {
    auto db = tdb.open();
    SQLite::Statement st(*db, sql);
    st.executeStep();
    return st.getColumn(0).getInt64();
  }

  billing_scheduler_stats stats() {
    billing_scheduler_stats out;
    auto pending = self->request(scheduler, caf::infinite, stats_atom::value);
    sched.run();
    pending.receive([&](billing_scheduler_stats s) { out = s; }, [](caf::error&) { CAF_FAIL("stats"); });
    return out;
  }
};

const int64_t feb28 = 1803772800;

} // namespace

CAF_TEST_FIXTURE_SCOPE(billing_scheduler_tests, fixture)

CAF_TEST(a closed period becomes one invoice with a bolt11 from the wallet) {
  relay(pubkey(1), "paid-one", "basic");
  relay(pubkey(2), "free-one", "free");
  pass();
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoices"), 0);  // nothing has closed
  now = feb28 + 10;
  pass();
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoices"), 1);
  CAF_CHECK_EQUAL(count("SELECT amount_sats FROM invoices"), 5000);  // a whole month of basic
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoices WHERE bolt11 IS NULL"), 1);  // the wallet holds it
  CAF_REQUIRE_EQUAL(script->held.size(), 1u);
  auto params = json::parse(script->held[0].first);
  CAF_CHECK_EQUAL(params["amount"].get<int64_t>(), 5000000);
  CAF_CHECK_EQUAL(params["expiry"].get<int64_t>(), 3600);
  answer_all();
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoices WHERE bolt11 = 'lnbcrt1'"), 1);
  CAF_CHECK_EQUAL(count("SELECT bolt11_expires_at FROM invoices"), feb28 + 10 + 3600);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoice_payment_hashes"), 1);
  // The free tenant's period closed too, without an invoice; its schedule moved on.
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM tenants WHERE billing_next_close > " + std::to_string(feb28 + 10)), 1);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM tenants WHERE billing_next_close IS NULL"), 1);  // never anchored
  pass();
  CAF_CHECK_EQUAL(script->total, 1u);  // nothing more to ask
  CAF_CHECK_EQUAL(counters->invoices_created.load(), 1u);
  CAF_CHECK_EQUAL(counters->bolt11_issued.load(), 1u);
}

CAF_TEST(an expired bolt11 is replaced on the same invoice and the old hash is kept) {
  relay(pubkey(1), "paid-one", "basic");
  now = feb28 + 10;
  pass();
  answer_all();
  now += 3600;  // the bolt11's lifetime (expires_at - created_at) has passed
  pass();
  answer_all();
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoices"), 1);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoices WHERE bolt11 = 'lnbcrt2'"), 1);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoice_payment_hashes"), 2);
  CAF_CHECK_EQUAL(counters->bolt11_renewed.load(), 1u);
  CAF_CHECK(script->lookups >= 1u);  // the expiring bolt11 was looked up before it was replaced
}

CAF_TEST(an expired bolt11 that was paid before expiry is not replaced) {
  relay(pubkey(1), "paid-two", "basic");
  now = feb28 + 10;
  pass();
  answer_all();
  script->settled.insert(std::string(63, '0') + "1");  // the first hash: paid, not yet seen
  now += 3600;
  pass();
  CAF_CHECK_EQUAL(script->held.size(), 0u);  // no make_invoice for a renewal
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoice_payment_hashes"), 1);
  CAF_CHECK_EQUAL(counters->bolt11_renewed.load(), 0u);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoices WHERE bolt11 = 'lnbcrt1'"), 1);
}

CAF_TEST(no more tenants bill at once than the bound and every one is billed once) {
  for (int i = 0; i < 30; ++i)
    relay(pubkey(i), "relay-" + std::to_string(i), "growth");
  now = feb28 + 10;
  self->send(scheduler, tick_atom::value, true);
  sched.run();
  CAF_CHECK_EQUAL(script->held.size(), 4u);  // the bound: four tenants are waiting on the wallet
  CAF_CHECK_EQUAL(stats().in_flight, 4u);
  while (!script->held.empty())
    answer_all();
  CAF_CHECK_EQUAL(script->max_held, 4u);
  CAF_CHECK_EQUAL(script->total, 30u);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoices"), 30);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoices WHERE bolt11 IS NULL"), 0);
  auto s = stats();
  CAF_CHECK(!s.running);
  CAF_CHECK_EQUAL(s.tenants_billed, 30u);
}

CAF_TEST(a failing wallet leaves the invoice open without a bolt11 and backs the tenant off) {
  relay(pubkey(1), "paid-one", "basic");
  now = feb28 + 10;
  pass();
  answer_all("INTERNAL");
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoices WHERE status = 'open' AND bolt11 IS NULL"), 1);
  CAF_CHECK_EQUAL(counters->wallet_errors.load(), 1u);
  CAF_CHECK_EQUAL(stats().backing_off, 1u);
  pass();  // within the backoff (one tick): not asked again
  CAF_CHECK_EQUAL(script->total, 1u);
  real += 61;
  pass();
  CAF_CHECK_EQUAL(script->total, 2u);
  answer_all();
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoices"), 1);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoices WHERE bolt11 IS NOT NULL"), 1);
  CAF_CHECK_EQUAL(stats().backing_off, 0u);
}

CAF_TEST(a new scheduler on the same database bills nothing twice) {
  relay(pubkey(1), "paid-one", "basic");
  now = feb28 + 10;
  pass();
  answer_all();
  anon_send_exit(scheduler, caf::exit_reason::kill);
  sched.run();
  scheduler = new_scheduler(4);
  pass();
  CAF_CHECK_EQUAL(script->total, 1u);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoices"), 1);
  // The next month closes while it runs: one more invoice.
  now = billing::period_at(1801353600, 1).end + 5;
  pass();
  answer_all();
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoices"), 2);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoices WHERE bolt11 IS NULL"), 0);
}

CAF_TEST(with billing disabled no pass runs and nothing is billed) {
  relay(pubkey(1), "paid-one", "basic");
  wallet_state->set(platform_wallet_check{});
  now = feb28 + 10;
  pass();
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoices"), 0);
  CAF_CHECK_EQUAL(stats().passes, 0u);
  platform_wallet_check ok;
  ok.enabled = true;
  wallet_state->set(ok);
  pass();
  answer_all();
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoices WHERE bolt11 IS NOT NULL"), 1);
}

CAF_TEST_FIXTURE_SCOPE_END()
