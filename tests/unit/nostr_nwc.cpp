// NIP-47 as data: info events, requests in both schemes, every check a response
// must pass (author, e tag, signature, decryption, result_type), error codes, and
// lookup_invoice normalisation. nostr-tools reads the requests in
// integration/nwc.test.mjs.
#undef CAF_SUITE
#define CAF_SUITE nostr_nwc
#include <caf/test/unit_test.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "nostr/event.hpp"
#include "nostr/keys.hpp"
#include "nostr/nip04.hpp"
#include "nostr/nip44.hpp"
#include "nostr/nwc.hpp"
#include "nostr/sha256.hpp"

using namespace relayhost::nostr;
using json = nlohmann::json;

namespace {

constexpr int64_t now = 1760000000;

struct peers {
  secret_key client = secret_key::generate();
  secret_key wallet = secret_key::generate();

  event info(std::string content, std::optional<std::string> enc) const {
    event e;
    e.kind = kind_nwc_info;
    e.created_at = now;
    e.content = std::move(content);
    if (enc)
      e.tags.push_back({"encryption", *enc});
    return sign_event(e, wallet);
  }

  /// What the wallet reads out of a request.
  json read(const event& req) const {
    bool nip44 = false;
    for (auto& t : req.tags)
      nip44 |= t.size() >= 2 && t[0] == "encryption" && t[1] == "nip44_v2";
    std::optional<std::string> text;
    if (nip44)
      text = nip44_decrypt(req.content, *nip44_get_conversation_key(wallet, client.pubkey_hex()));
    else
      text = nip04_decrypt(wallet, client.pubkey_hex(), req.content);
    return text ? json::parse(*text) : json();
  }

  /// A response as a wallet would send it; `mutate` bends it before signing.
  event answer(const std::string& request_id, const json& body, bool nip04 = false,
               const secret_key* signer = nullptr, std::string e_tag = "") const {
    event r;
    r.kind = kind_nwc_response;
    r.created_at = now;
    r.tags = {{"e", e_tag.empty() ? request_id : e_tag}, {"p", client.pubkey_hex()}};
    const secret_key& by = signer ? *signer : wallet;
    if (nip04)
      r.content = nip04_encrypt(by, client.pubkey_hex(), body.dump());
    else
      r.content = nip44_encrypt(body.dump(), *nip44_get_conversation_key(by, client.pubkey_hex()));
    return sign_event(r, by);
  }

  std::string why(const event& resp, const std::string& id, const std::string& method = "get_info") const {
    std::string error;
    auto r = open_nwc_response(resp, client, wallet.pubkey_hex(), id, method, &error);
    return r ? "<trusted>" : error;
  }
};

} // namespace

CAF_TEST(info events) {
  peers p;
  auto both = parse_nwc_info(p.info("get_info make_invoice,lookup_invoice  pay_invoice", "nip44_v2 nip04"),
                             p.wallet.pubkey_hex());
  CAF_REQUIRE(both);
  CAF_CHECK_EQUAL(both->methods.size(), 4u);
  CAF_CHECK(both->has("pay_invoice"));
  CAF_CHECK(both->chosen() == nwc_encryption::nip44_v2);
  auto old = parse_nwc_info(p.info("pay_invoice", std::nullopt), p.wallet.pubkey_hex());
  CAF_REQUIRE(old);
  CAF_CHECK(!old->nip44_v2);
  CAF_CHECK(old->chosen() == nwc_encryption::nip04);  // no tag: NIP-04 only
  auto only04 = parse_nwc_info(p.info("pay_invoice", "nip04"), p.wallet.pubkey_hex());
  CAF_CHECK(only04 && only04->chosen() == nwc_encryption::nip04);
  auto alien = parse_nwc_info(p.info("pay_invoice", "nip99"), p.wallet.pubkey_hex());
  CAF_REQUIRE(alien);
  CAF_CHECK(!alien->chosen());

  std::string error;
  CAF_CHECK(!parse_nwc_info(p.info("x", std::nullopt), p.client.pubkey_hex(), &error));
  CAF_CHECK_EQUAL(error, "the info event is not the wallet's");
  auto forged = p.info("get_info pay_invoice", std::nullopt);
  forged.content = "get_info pay_invoice make_invoice";
  CAF_CHECK(!parse_nwc_info(forged, p.wallet.pubkey_hex(), &error));
  CAF_CHECK_EQUAL(error, "the info event's id or signature is invalid");
}

CAF_TEST(requests in both schemes) {
  peers p;
  for (auto enc : {nwc_encryption::nip44_v2, nwc_encryption::nip04}) {
    auto req = make_nwc_request(p.client, p.wallet.pubkey_hex(), "make_invoice", R"({"amount":21000})", enc, now,
                                now + 60);
    CAF_CHECK_EQUAL(req.kind, kind_nwc_request);
    CAF_CHECK_EQUAL(req.pubkey, p.client.pubkey_hex());
    CAF_CHECK(verify_event(req));
    bool has_p = false, has_exp = false, has_enc = false;
    for (auto& t : req.tags) {
      has_p |= t[0] == "p" && t[1] == p.wallet.pubkey_hex();
      has_exp |= t[0] == "expiration" && t[1] == std::to_string(now + 60);
      has_enc |= t[0] == "encryption";
    }
    CAF_CHECK(has_p);
    CAF_CHECK(has_exp);
    CAF_CHECK_EQUAL(has_enc, enc == nwc_encryption::nip44_v2);  // absent means nip04
    auto body = p.read(req);
    CAF_CHECK(body["method"] == "make_invoice");
    CAF_CHECK(body["params"]["amount"] == 21000);
  }
  bool threw = false;
  try {
    make_nwc_request(p.client, p.wallet.pubkey_hex(), "get_info", "[1]", nwc_encryption::nip04, now, 0);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CAF_CHECK(threw);
}

CAF_TEST(a response is trusted only when every check passes) {
  peers p;
  auto req = make_nwc_request(p.client, p.wallet.pubkey_hex(), "get_info", "{}", nwc_encryption::nip44_v2, now, 0);
  json ok{{"result_type", "get_info"}, {"error", nullptr}, {"result", {{"methods", {"pay_invoice"}}}}};
  auto good = open_nwc_response(p.answer(req.id, ok), p.client, p.wallet.pubkey_hex(), req.id, "get_info");
  CAF_REQUIRE(good);
  CAF_CHECK(!good->error);
  auto result = json::parse(good->result_json);
  CAF_CHECK(result["methods"][0] == "pay_invoice");
  CAF_CHECK_EQUAL(p.why(p.answer(req.id, ok, true), req.id), "<trusted>");  // a NIP-04 answer is read too

  auto stranger = secret_key::generate();
  CAF_CHECK_EQUAL(p.why(p.answer(req.id, ok, false, &stranger), req.id), "not signed by the wallet");
  CAF_CHECK_EQUAL(p.why(p.answer(req.id, ok, false, nullptr, std::string(64, 'e')), req.id),
                  "its e tag is not the request");
  auto tampered = p.answer(req.id, ok);
  tampered.created_at += 1;
  CAF_CHECK_EQUAL(p.why(tampered, req.id), "its id or signature is invalid");
  CAF_CHECK_EQUAL(p.why(p.answer(req.id, ok), req.id, "pay_invoice"), "its result_type is not the request's method");
  auto garbage = p.answer(req.id, ok);
  garbage.content = "AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  garbage = sign_event(garbage, p.wallet);
  CAF_CHECK(p.why(garbage, req.id).rfind("it does not decrypt", 0) == 0);
  CAF_CHECK_EQUAL(p.why(p.answer(req.id, json{{"error", nullptr}}), req.id), "it has no result_type");
  CAF_CHECK_EQUAL(p.why(p.answer(req.id, json::array({1})), req.id), "its content is not a JSON object");
  auto kind = p.answer(req.id, ok);
  kind.kind = 23196;
  CAF_CHECK_EQUAL(p.why(kind, req.id), "not a kind-23195 response");
}

CAF_TEST(every error code is typed and unknown ones are other) {
  peers p;
  for (auto code : {"RATE_LIMITED", "NOT_IMPLEMENTED", "INSUFFICIENT_BALANCE", "QUOTA_EXCEEDED", "RESTRICTED",
                    "UNAUTHORIZED", "INTERNAL", "UNSUPPORTED_ENCRYPTION", "OTHER", "PAYMENT_FAILED", "NOT_FOUND"}) {
    json body{{"result_type", "pay_invoice"}, {"error", {{"code", code}, {"message", "no"}}}, {"result", nullptr}};
    auto r = open_nwc_response(p.answer("ab", body), p.client, p.wallet.pubkey_hex(), "ab", "pay_invoice");
    CAF_REQUIRE(r && r->error);
    CAF_CHECK_EQUAL(std::string(to_string(*r->error)), code);
    CAF_CHECK_EQUAL(r->error_message, "no");
  }
  json odd{{"result_type", "pay_invoice"}, {"error", {{"code", "WEIRD"}, {"message", "huh"}}}};
  auto r = open_nwc_response(p.answer("ab", odd), p.client, p.wallet.pubkey_hex(), "ab", "pay_invoice");
  CAF_REQUIRE(r && r->error);
  CAF_CHECK(*r->error == nwc_error_code::other);
  CAF_CHECK_EQUAL(r->error_message, "WEIRD: huh");
}

CAF_TEST(lookup normalisation) {
  std::string pre(64, '1');
  std::array<uint8_t, 32> pre_bytes{};
  pre_bytes.fill(0x11);
  auto hash = sha256_hex(std::string(reinterpret_cast<const char*>(pre_bytes.data()), 32));
  auto st = [&](const json& j) { return normalize_lookup(j.dump(), hash); };
  CAF_CHECK(st({{"state", "settled"}}).status == invoice_status::settled);
  CAF_CHECK(st({{"settled_at", 1700000000}}).status == invoice_status::settled);
  auto by_pre = st({{"preimage", pre}});
  CAF_CHECK(by_pre.status == invoice_status::settled);
  CAF_CHECK_EQUAL(by_pre.preimage, pre);
  auto wrong_pre = st({{"preimage", std::string(64, '2')}});
  CAF_CHECK(wrong_pre.status == invoice_status::pending);  // a preimage that does not hash to it proves nothing
  CAF_CHECK(wrong_pre.preimage.empty());
  CAF_CHECK(st({{"state", "pending"}}).status == invoice_status::pending);
  CAF_CHECK(st({{"state", "expired"}}).status == invoice_status::expired);
  CAF_CHECK(st({{"state", "failed"}}).status == invoice_status::failed);
  CAF_CHECK(st(json::object()).status == invoice_status::pending);
  CAF_CHECK(st({{"settled_at", nullptr}, {"state", "pending"}}).status == invoice_status::pending);
  CAF_CHECK(normalize_lookup("not json", hash).status == invoice_status::pending);
  CAF_CHECK(preimage_matches(pre, hash));
  CAF_CHECK(!preimage_matches(pre, std::string(64, '0')));
  CAF_CHECK(!preimage_matches("zz", hash));
}
