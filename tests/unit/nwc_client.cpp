// The NWC client actor against a scripted relay pool that plays the wallet, in
// simulated time: subscribe-before-publish, encryption from the info event, the
// expiration tag, trusted answers only, every error code typed, timeouts as
// `unknown` (not failed), nothing taken as `not_sent`, bounded concurrency in FIFO
// order, RATE_LIMITED pauses, idle quit.
#define CAF_SUITE nwc_client
#include <caf/test/dsl.hpp>

#include <nlohmann/json.hpp>

#include "actors/nwc_client.hpp"
#include "nostr/hex.hpp"
#include "nostr/nip04.hpp"
#include "nostr/nip44.hpp"

using namespace relayhost;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string relay_url = "wss://wallet-relay.example";

/// The wallet behind the scripted pool, and what the client did.
struct wallet_script {
  nostr::secret_key wallet = nostr::secret_key::generate();
  nostr::secret_key client = nostr::secret_key::generate();
  std::optional<std::string> encryption_tag = std::string("nip44_v2 nip04");  // nullopt: none (NIP-04 only)
  std::string methods = "get_info make_invoice lookup_invoice pay_invoice";
  bool has_info = true;
  publish_outcome publish = publish_outcome::accepted;
  // How the wallet answers: "ok", "silent", "wrong_key", "wrong_e", "wrong_then_ok", or a NIP-47 code.
  std::string answer = "ok";
  int64_t now = 1764000000;

  std::vector<std::string> log;  // "sub <filter>", "pub <id>", "unsub"
  std::vector<nostr::event> requests;
  std::vector<json> decoded;
  std::map<uint64_t, pool_subscriber_actor> subs;
  uint64_t next_sub = 0;

  nostr::event info_event() const {
    nostr::event e;
    e.kind = nostr::kind_nwc_info;
    e.created_at = now - 100;
    e.content = methods;
    if (encryption_tag)
      e.tags.push_back({"encryption", *encryption_tag});
    return nostr::sign_event(e, wallet);
  }

  json decode(const nostr::event& req) const {
    bool nip44 = false;
    for (auto& t : req.tags)
      nip44 |= t[0] == "encryption" && t.size() > 1 && t[1] == "nip44_v2";
    auto text = nip44 ? nostr::nip44_decrypt(req.content, *nostr::nip44_get_conversation_key(wallet, client.pubkey_hex()))
                      : nostr::nip04_decrypt(wallet, client.pubkey_hex(), req.content);
    return text ? json::parse(*text) : json();
  }

  nostr::event response(const nostr::event& req, const json& body, const nostr::secret_key& by,
                        const std::string& e) const {
    nostr::event r;
    r.kind = nostr::kind_nwc_response;
    r.created_at = now;
    r.tags = {{"e", e}, {"p", client.pubkey_hex()}};
    bool nip44 = false;
    for (auto& t : req.tags)
      nip44 |= t[0] == "encryption";
    r.content = nip44 ? nostr::nip44_encrypt(body.dump(), *nostr::nip44_get_conversation_key(by, client.pubkey_hex()))
                      : nostr::nip04_encrypt(by, client.pubkey_hex(), body.dump());
    return nostr::sign_event(r, by);
  }

  std::vector<nostr::event> answers_to(const nostr::event& req, const json& body) const {
    auto method = body["method"].get<std::string>();
    json ok{{"result_type", method}, {"error", nullptr}, {"result", {{"alias", "test"}, {"methods", {"pay_invoice"}}}}};
    if (answer == "ok")
      return {response(req, ok, wallet, req.id)};
    if (answer == "silent")
      return {};
    if (answer == "wrong_key")
      return {response(req, ok, nostr::secret_key::generate(), req.id)};
    if (answer == "wrong_e")
      return {response(req, ok, wallet, std::string(64, 'e'))};
    if (answer == "wrong_then_ok")
      return {response(req, ok, nostr::secret_key::generate(), req.id), response(req, ok, wallet, req.id)};
    json err{{"result_type", method}, {"error", {{"code", answer}, {"message", "because"}}}, {"result", nullptr}};
    return {response(req, err, wallet, req.id)};
  }
};

relay_pool_actor::behavior_type scripted_pool(relay_pool_actor::pointer self, std::shared_ptr<wallet_script> s) {
  return {
    [self, s](publish_atom, nostr::event& ev, std::vector<std::string>& relays, caf::timespan) {
      s->log.push_back("pub " + ev.id);
      s->requests.push_back(ev);
      s->decoded.push_back(s->decode(ev));
      publish_report rep;
      for (auto& u : relays)
        rep.relays.push_back({u, s->publish, s->publish == publish_outcome::accepted ? "" : "blocked: no"});
      if (s->publish == publish_outcome::accepted)
        for (auto& [id, sub] : s->subs)
          for (auto& a : s->answers_to(ev, s->decoded.back()))
            self->send(sub, pool_event_atom::value, id, relay_url, a);
      return rep;
    },
    [s](query_atom, std::vector<std::string>& filters, std::vector<std::string>& relays, caf::timespan) {
      s->log.push_back("query " + filters.front());
      query_report r;
      if (s->has_info)
        r.events.push_back(s->info_event());
      for (auto& u : relays)
        r.relays.push_back({u, query_outcome::eose, ""});
      return r;
    },
    [s](subscribe_atom, std::vector<std::string>& filters, std::vector<std::string>&, pool_subscriber_actor& sub) {
      s->log.push_back("sub " + filters.front());
      s->subs.emplace(++s->next_sub, sub);
      return s->next_sub;
    },
    [s](unsub_atom, uint64_t id) {
      s->log.push_back("unsub");
      s->subs.erase(id);
    },
    [](ws_atom, ws_signal&) {},
    [](reconnect_atom, std::string&, uint64_t) {},
    [](deadline_atom, uint64_t) {},
    [](sweep_atom) {},
    [](stats_atom) { return relay_pool_stats{}; },
  };
}

struct fixture : test_coordinator_fixture<> {
  std::shared_ptr<wallet_script> w = std::make_shared<wallet_script>();
  relay_pool_actor pool;
  std::shared_ptr<nwc_env> env = std::make_shared<nwc_env>();
  nwc_actor client;

  fixture() {
    pool = sys.spawn(scripted_pool, w);
    env->pool = pool;
    env->now = [this] { return w->now; };
    env->timeout = 60s;
  }

  void start() {
    nostr::nwc_uri uri;
    uri.wallet_pubkey = w->wallet.pubkey_hex();
    uri.relays = {relay_url};
    uri.secret_hex = w->client.hex();
    client = sys.spawn(nwc_client_impl, uri, std::shared_ptr<const nwc_env>(env));
    sched.run();
  }

  ~fixture() {
    anon_send_exit(client, caf::exit_reason::user_shutdown);
    anon_send_exit(pool, caf::exit_reason::user_shutdown);
    sched.run();
  }

  using answer = std::shared_ptr<std::optional<nwc_result>>;

  answer ask(std::string method, std::string params = "{}") {
    auto out = std::make_shared<std::optional<nwc_result>>();
    auto c = client;
    sys.spawn([=](caf::event_based_actor* a) {
      a->request(c, caf::infinite, nwc_atom::value, method, params).then([=](nwc_result& r) { *out = r; });
    });
    return out;
  }

  void advance(std::chrono::seconds d) {
    w->now += d.count();
    sched.advance_time(d);
    sched.run();
  }

  nwc_stats stats() {
    nwc_stats s;
    auto h = self->request(client, caf::infinite, stats_atom::value);
    sched.run();
    h.receive([&](nwc_stats& x) { s = x; }, [](caf::error&) {});
    return s;
  }

  size_t published() const {
    return w->requests.size();
  }
};

bool has_tag(const nostr::event& e, const std::string& name, const std::string& value) {
  for (auto& t : e.tags)
    if (t.size() >= 2 && t[0] == name && t[1] == value)
      return true;
  return false;
}

bool has_tag_name(const nostr::event& e, const std::string& name) {
  for (auto& t : e.tags)
    if (!t.empty() && t[0] == name)
      return true;
  return false;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(nwc_client_tests, fixture)

CAF_TEST(a nip44 wallet reads info first and subscribes before it publishes and trusts a checked answer) {
  start();
  auto a = ask("make_invoice", R"({"amount":21000})");
  sched.run();
  CAF_REQUIRE(a->has_value());
  auto r = **a;
  CAF_CHECK_EQUAL(std::string(to_string(r.kind)), "ok");
  CAF_CHECK(json::parse(r.result_json)["alias"] == "test");
  CAF_REQUIRE_EQUAL(w->log.size(), 4u);
  CAF_CHECK(w->log[0].rfind("query ", 0) == 0);
  CAF_CHECK(w->log[0].find("13194") != std::string::npos);
  CAF_CHECK(w->log[1].rfind("sub ", 0) == 0);  // the subscription is open before the request goes out
  auto filter = json::parse(w->log[1].substr(4));
  CAF_CHECK(filter["kinds"][0] == 23195);
  CAF_CHECK(filter["authors"][0] == w->wallet.pubkey_hex());
  CAF_CHECK(filter["#e"][0] == r.request_id);
  CAF_CHECK_EQUAL(w->log[2], "pub " + r.request_id);
  CAF_CHECK_EQUAL(w->log[3], "unsub");
  auto& req = w->requests.front();
  CAF_CHECK(has_tag(req, "encryption", "nip44_v2"));
  CAF_CHECK(has_tag(req, "p", w->wallet.pubkey_hex()));
  CAF_CHECK(has_tag(req, "expiration", std::to_string(w->now + 60)));
  CAF_CHECK_EQUAL(req.pubkey, w->client.pubkey_hex());
  CAF_CHECK(w->decoded.front()["method"] == "make_invoice");
  CAF_CHECK(w->decoded.front()["params"]["amount"] == 21000);
  // A second request reuses the info (no second query).
  auto b = ask("get_info");
  sched.run();
  CAF_REQUIRE(b->has_value());
  CAF_CHECK_EQUAL(std::string(to_string((*b)->kind)), "ok");
  CAF_CHECK_EQUAL(stats().info_reads, 1u);
}

CAF_TEST(a wallet without an encryption tag is spoken to in nip04) {
  w->encryption_tag.reset();
  start();
  auto a = ask("get_info");
  sched.run();
  CAF_REQUIRE(a->has_value());
  CAF_CHECK_EQUAL(std::string(to_string((*a)->kind)), "ok");
  CAF_CHECK(!has_tag_name(w->requests.front(), "encryption"));
  CAF_CHECK(w->requests.front().content.find("?iv=") != std::string::npos);
}

CAF_TEST(a silent wallet is unknown after the timeout and its subscription is closed) {
  w->answer = "silent";
  start();
  auto a = ask("pay_invoice", R"({"invoice":"lnbc1"})");
  sched.run();
  CAF_CHECK(!a->has_value());
  advance(59s);
  CAF_CHECK(!a->has_value());
  advance(1s);
  CAF_REQUIRE(a->has_value());
  CAF_CHECK_EQUAL(std::string(to_string((*a)->kind)), "unknown");  // not "failed": it may have paid
  CAF_CHECK_EQUAL((*a)->request_id, w->requests.front().id);
  CAF_CHECK_EQUAL(w->log.back(), "unsub");
}

CAF_TEST(answers from the wrong key or for the wrong request are ignored) {
  for (auto kind : {"wrong_key", "wrong_e"}) {
    w->answer = kind;
    if (!client)
      start();
    auto a = ask("get_info");
    sched.run();
    CAF_CHECK(!a->has_value());
    advance(60s);
    CAF_REQUIRE(a->has_value());
    CAF_CHECK_EQUAL(std::string(to_string((*a)->kind)), "unknown");
  }
  CAF_CHECK_EQUAL(stats().ignored, 2u);
  w->answer = "wrong_then_ok";  // a forged answer first does not hide the real one
  auto b = ask("get_info");
  sched.run();
  CAF_REQUIRE(b->has_value());
  CAF_CHECK_EQUAL(std::string(to_string((*b)->kind)), "ok");
  CAF_CHECK_EQUAL(stats().ignored, 3u);
}

CAF_TEST(every nip47 error code is a typed wallet error) {
  start();
  for (auto code : {"RATE_LIMITED", "NOT_IMPLEMENTED", "INSUFFICIENT_BALANCE", "QUOTA_EXCEEDED", "RESTRICTED",
                    "UNAUTHORIZED", "INTERNAL", "UNSUPPORTED_ENCRYPTION", "OTHER", "PAYMENT_FAILED", "NOT_FOUND"}) {
    w->answer = code;
    auto a = ask("pay_invoice", R"({"invoice":"lnbc1"})");
    sched.run();
    advance(200s);  // past any RATE_LIMITED pause
    CAF_REQUIRE(a->has_value());
    CAF_CHECK_EQUAL(std::string(to_string((*a)->kind)), "wallet_error");
    CAF_CHECK_EQUAL((*a)->code, code);
    CAF_CHECK_EQUAL((*a)->message, "because");
  }
}

CAF_TEST(a request no relay took is not sent and says why) {
  w->publish = publish_outcome::rejected;
  start();
  auto a = ask("pay_invoice", R"({"invoice":"lnbc1"})");
  sched.run();
  CAF_REQUIRE(a->has_value());
  CAF_CHECK_EQUAL(std::string(to_string((*a)->kind)), "not_sent");
  CAF_CHECK((*a)->message.find("blocked: no") != std::string::npos);
}

CAF_TEST(no info event means nothing is sent) {
  w->has_info = false;
  start();
  auto a = ask("get_info");
  sched.run();
  CAF_REQUIRE(a->has_value());
  CAF_CHECK_EQUAL(std::string(to_string((*a)->kind)), "not_sent");
  CAF_CHECK_EQUAL((*a)->message, "the wallet has no info event (kind 13194) on its relays");
  CAF_CHECK_EQUAL(published(), 0u);
  w->has_info = true;  // read again for the next request
  auto b = ask("get_info");
  sched.run();
  CAF_REQUIRE(b->has_value());
  CAF_CHECK_EQUAL(std::string(to_string((*b)->kind)), "ok");
}

CAF_TEST(at most eight in flight and the rest in fifo order) {
  w->answer = "silent";
  start();
  std::vector<answer> as;
  for (int i = 0; i < 20; ++i)
    as.push_back(ask("lookup_invoice", R"({"payment_hash":")" + std::to_string(i) + R"("})"));
  sched.run();
  CAF_CHECK_EQUAL(published(), 8u);
  auto s = stats();
  CAF_CHECK_EQUAL(s.in_flight, 8u);
  CAF_CHECK_EQUAL(s.queued, 12u);
  advance(60s);
  CAF_CHECK_EQUAL(published(), 16u);
  advance(60s);
  CAF_CHECK_EQUAL(published(), 20u);
  for (size_t i = 0; i < 20; ++i) {
    auto got = w->decoded[i]["params"]["payment_hash"].get<std::string>();
    CAF_CHECK_EQUAL(got, std::to_string(i));  // sent in the order asked
  }
  advance(60s);
  for (auto& a : as)
    CAF_CHECK(a->has_value() && (*a)->kind == nwc_result::unknown);
}

CAF_TEST(rate limited pauses the wallet then resumes) {
  w->answer = "RATE_LIMITED";
  env->rate_limit_pause = 10s;
  start();
  auto a = ask("get_info");
  sched.run();
  CAF_REQUIRE(a->has_value());
  CAF_CHECK_EQUAL((*a)->code, "RATE_LIMITED");
  w->answer = "ok";
  auto b = ask("get_info");
  sched.run();
  CAF_CHECK_EQUAL(published(), 1u);  // paused
  CAF_CHECK(!b->has_value());
  advance(10s);
  CAF_CHECK_EQUAL(published(), 2u);
  CAF_REQUIRE(b->has_value());
  CAF_CHECK_EQUAL(std::string(to_string((*b)->kind)), "ok");
}

CAF_TEST(a tenant wallet quits when idle) {
  env->idle_quit = 300s;
  start();
  auto a = ask("get_info");
  sched.run();
  CAF_REQUIRE(a->has_value());
  advance(300s);  // the request bumped the activity: it waits one more round
  CAF_CHECK_EQUAL(stats().requests, 1u);  // alive (stats() of a dead actor is all zeros)
  advance(300s);
  CAF_CHECK_EQUAL(stats().requests, 0u);
  auto b = ask("get_info");
  sched.run();
  CAF_CHECK(!b->has_value());  // nobody there to answer
}

CAF_TEST_FIXTURE_SCOPE_END()
