// NIP-01 events: strict parsing, the canonical serialization (checked against an
// event made by nostr-tools and against nlohmann's dump, which equals
// JSON.stringify), id and signature verification, signing.
#define CAF_SUITE nostr_event
#include <caf/test/unit_test.hpp>

#include "nostr/event.hpp"
#include "nostr/keys.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <random>
#include <stdexcept>
#include <string>

using namespace relayhost::nostr;

namespace {

// Made with nostr-tools 2.25 finalizeEvent (content has a quote, newline, tab,
// U+0001, U+2028, an emoji as a surrogate-pair escape, '/', '\' and 'é').
const std::string fixture_json = R"({"kind":1,"created_at":1700000000,"tags":[["e","5c83da77af1dec6d7289834998ad7aafbd9e2191396d75ec3cc27f5a77226f36","wss://relay.example.com"],["p","f7234bd4c1394dda46d09f35bd384dd30cc552ad5541990f98844fb06676e9ca"],["t","nostr"]],"content":"Hello \"world\"\n\t\u0001 \u2028 \ud83d\ude00 / \\ \u00e9","pubkey":"87d3561f19b74adbe8bf840682992466068830a9d8c36b4a0c99d36f826cb6cb","id":"0d32429cdaa3439a76aee271a5b91a25624832a0a0a2f0f25203692d2773c12e","sig":"0d4d720d99874e5ceec1a032cd5fa241ac12602df9b981e33080c9875e3b065a696a5db73ab961c939ce409489307c8794f3bb85ca07e0962bf4298b159c5565"})";

const std::string fixture_serialized =
  R"([0,"87d3561f19b74adbe8bf840682992466068830a9d8c36b4a0c99d36f826cb6cb",1700000000,1,[["e","5c83da77af1dec6d7289834998ad7aafbd9e2191396d75ec3cc27f5a77226f36","wss://relay.example.com"],["p","f7234bd4c1394dda46d09f35bd384dd30cc552ad5541990f98844fb06676e9ca"],["t","nostr"]],"Hello \"world\"\n\t\u0001 )"
  "\xe2\x80\xa8 \xf0\x9f\x98\x80 / \\\\ \xc3\xa9\"]";

const char* test_sk = "5c0c523f52a5b6fad39ed2403092df8cebc36318b39383bca6c00808626fab3a";

// A valid-shaped event object whose `field` is replaced by `raw` JSON (or left
// out when raw is nullptr).
std::string with(const std::string& field, const char* raw) {
  std::map<std::string, std::string> f = {
    {"id", "\"" + std::string(64, 'a') + "\""},
    {"pubkey", "\"" + std::string(64, 'b') + "\""},
    {"created_at", "1700000000"},
    {"kind", "1"},
    {"tags", "[[\"t\",\"x\"]]"},
    {"content", "\"hi\""},
    {"sig", "\"" + std::string(128, 'c') + "\""},
  };
  if (raw == nullptr)
    f.erase(field);
  else
    f[field] = raw;
  std::string out = "{";
  for (const auto& [k, v] : f)
    out += (out.size() > 1 ? "," : "") + ("\"" + k + "\":" + v);
  return out + "}";
}

std::string parse_error_of(const std::string& json) {
  std::string error;
  auto ev = parse_event(json, &error);
  return ev ? std::string("<accepted>") : error;
}

// Random valid UTF-8, biased towards the characters serializers get wrong.
std::string random_text(std::mt19937& rng, size_t max_len) {
  static const uint32_t specials[] = {0x00, 0x01, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1f, 0x20, '"',
                                      '\\', '/', 0x7f, 0x80, 0xa0, 0xad, 0x2028, 0x2029, 0xfeff,
                                      0xfffd, 0xffff, 0x1f600, 0x10ffff, 0xe000, 0xd7ff};
  std::string s;
  const size_t len = rng() % (max_len + 1);
  for (size_t i = 0; i < len; ++i) {
    uint32_t cp;
    switch (rng() % 4) {
    case 0: cp = specials[rng() % (sizeof specials / sizeof specials[0])]; break;
    case 1: cp = 0x20 + rng() % 0x5f; break;
    case 2: cp = rng() % 0x800; break;
    default:
      do
        cp = rng() % 0x110000;
      while (cp >= 0xd800 && cp <= 0xdfff);
    }
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      s.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      s.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }
  return s;
}

} // namespace

CAF_TEST(nostr-tools event parses serializes and verifies) {
  std::string error;
  auto ev = parse_event(fixture_json, &error);
  CAF_REQUIRE(ev.has_value());
  CAF_CHECK_EQUAL(ev->kind, 1);
  CAF_CHECK_EQUAL(ev->created_at, 1700000000);
  CAF_REQUIRE_EQUAL(ev->tags.size(), 3u);
  CAF_CHECK_EQUAL(ev->tags[0].size(), 3u);
  CAF_CHECK_EQUAL(ev->tags[0][2], "wss://relay.example.com");
  CAF_CHECK_EQUAL(ev->content, "Hello \"world\"\n\t\x01 \xe2\x80\xa8 \xf0\x9f\x98\x80 / \\ \xc3\xa9");
  CAF_CHECK_EQUAL(serialize_for_id(*ev), fixture_serialized);
  CAF_CHECK_EQUAL(compute_id(*ev), ev->id);
  CAF_CHECK(id_matches(*ev));
  CAF_CHECK(signature_valid(*ev));
  CAF_CHECK(verify_event(*ev));
  // to_json parses back to the same event.
  auto again = parse_event(to_json(*ev));
  CAF_REQUIRE(again.has_value());
  CAF_CHECK_EQUAL(to_json(*again), to_json(*ev));
  CAF_CHECK(verify_event(*again));
}

CAF_TEST(tampering is detected) {
  const event good = *parse_event(fixture_json);
  event e = good;
  e.content += " ";
  CAF_CHECK(!id_matches(e));
  CAF_CHECK(signature_valid(e)); // the signature still covers the (stale) id
  CAF_CHECK(!verify_event(e));
  e = good;
  e.tags[2][1] = "nostR";
  CAF_CHECK(!verify_event(e));
  e = good;
  e.created_at += 1;
  CAF_CHECK(!verify_event(e));
  e = good;
  e.sig[5] = e.sig[5] == '0' ? '1' : '0';
  CAF_CHECK(id_matches(e));
  CAF_CHECK(!signature_valid(e));
  CAF_CHECK(!verify_event(e));
  e = good;
  e.pubkey = secret_key::generate().pubkey_hex();
  CAF_CHECK(!verify_event(e));
  e = good;
  e.id = "zz" + e.id.substr(2);
  CAF_CHECK(!id_matches(e));
  CAF_CHECK(!signature_valid(e));
}

CAF_TEST(sign_event sets pubkey id and sig) {
  auto key = secret_key::from_hex(test_sk);
  CAF_REQUIRE(key.has_value());
  event draft;
  draft.kind = 27235;
  draft.created_at = 1764000000;
  draft.tags = {{"u", "https://example.com/a?b=c"}, {"method", "POST"}};
  draft.content = "";
  const event ev = sign_event(draft, *key);
  CAF_CHECK_EQUAL(ev.pubkey, "87d3561f19b74adbe8bf840682992466068830a9d8c36b4a0c99d36f826cb6cb");
  CAF_CHECK_EQUAL(ev.id, compute_id(ev));
  CAF_CHECK(verify_event(ev));
  auto parsed = parse_event(to_json(ev));
  CAF_REQUIRE(parsed.has_value());
  CAF_CHECK(verify_event(*parsed));
  CAF_CHECK_EQUAL(first_tag_value(ev, "u").value_or("?"), "https://example.com/a?b=c");
  CAF_CHECK_EQUAL(first_tag_value(ev, "method").value_or("?"), "POST");
  CAF_CHECK(!first_tag_value(ev, "payload").has_value());
}

CAF_TEST(sign_event refuses what could not be parsed back) {
  auto key = *secret_key::from_hex(test_sk);
  event e;
  e.content = "bad \xff utf-8";
  CAF_CHECK_EQUAL(parse_error_of("\"x\""), "event must be a JSON object"); // sanity of the helper
  bool threw = false;
  try {
    sign_event(e, key);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CAF_CHECK(threw);
  e.content = "ok";
  e.tags = {{"t", "\xed\xa0\x80"}}; // an encoded surrogate is not UTF-8
  threw = false;
  try {
    sign_event(e, key);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CAF_CHECK(threw);
  e.tags.clear();
  e.kind = 65536;
  threw = false;
  try {
    sign_event(e, key);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CAF_CHECK(threw);
}

CAF_TEST(serialization equals nlohmann dump for random strings) {
  // nlohmann's dump() is byte-identical to JSON.stringify (checked in nostr.md
  // and by tests/integration/nostr_crosscheck against nostr-tools).
  std::mt19937 rng(20240601);
  int mismatches = 0;
  for (int i = 0; i < 2000; ++i) {
    event e;
    e.pubkey = std::string(64, 'a');
    e.created_at = static_cast<int64_t>(rng()) * (i % 7 == 0 ? 2097151 : 1); // up to ~2^53
    e.kind = static_cast<int>(rng() % 65536);
    const size_t ntags = rng() % 4;
    for (size_t t = 0; t < ntags; ++t) {
      std::vector<std::string> tag;
      const size_t n = rng() % 4;
      for (size_t k = 0; k < n; ++k)
        tag.push_back(random_text(rng, 12));
      e.tags.push_back(tag);
    }
    e.content = random_text(rng, 60);
    const std::string mine = serialize_for_id(e);
    const std::string ref = nlohmann::json::array({0, e.pubkey, e.created_at, e.kind, e.tags, e.content}).dump();
    if (mine != ref && mismatches++ == 0)
      CAF_MESSAGE("first mismatch: " << nlohmann::json(mine).dump() << " vs " << nlohmann::json(ref).dump());
  }
  CAF_CHECK_EQUAL(mismatches, 0);
}

CAF_TEST(known escapes) {
  event e;
  e.pubkey = std::string(64, 'a');
  e.created_at = 9007199254740991;
  e.kind = 65535;
  e.tags = {{}, {""}, {"a\x7f", "\x1f"}};
  e.content = std::string("\0\b\f\n\r\t\v\"\\/", 10);
  CAF_CHECK_EQUAL(serialize_for_id(e),
                  "[0,\"" + std::string(64, 'a')
                    + R"(",9007199254740991,65535,[[],[""],["a)" "\x7f" R"(","\u001f"]],"\u0000\b\f\n\r\t\u000b\"\\/"])");
}

CAF_TEST(parser accepts unknown fields and whitespace) {
  const std::string json = " {\n \"extra\" : {\"id\": 5, \"nested\": [[{\"kind\": \"x\"}], null, 1.5e3]},"
                           "\"id\":\"" + std::string(64, 'a') + "\", \"pubkey\":\"" + std::string(64, 'b')
                           + "\", \"created_at\": 0, \"kind\": 0, \"tags\": [], \"content\": \"\","
                             "\"sig\":\"" + std::string(128, 'c') + "\", \"relays\": [\"wss://x\"], \"seen\": true } ";
  CAF_CHECK_EQUAL(parse_error_of(json), "<accepted>");
  CAF_CHECK_EQUAL(parse_error_of(with("created_at", "9007199254740991")), "<accepted>");
  CAF_CHECK_EQUAL(parse_error_of(with("kind", "65535")), "<accepted>");
  CAF_CHECK_EQUAL(parse_error_of(with("created_at", "-0")), "<accepted>"); // JSON.stringify(-0) is "0"
  CAF_CHECK_EQUAL(parse_error_of(with("tags", "[[], [\"\"]]")), "<accepted>");
  auto ev = parse_event(with("content", "\"caf\\u00e9 \\ud83d\\ude00\""));
  CAF_REQUIRE(ev.has_value());
  CAF_CHECK_EQUAL(ev->content, "caf\xc3\xa9 \xf0\x9f\x98\x80");
}

CAF_TEST(parser rejects with a reason) {
  const std::pair<std::string, const char*> cases[] = {
    {with("created_at", "1700000000.0"), "created_at must be an integer"},
    {with("created_at", "1.7e9"), "created_at must be an integer"},
    {with("created_at", "\"1700000000\""), "created_at must be an integer"},
    {with("created_at", "null"), "created_at must be an integer"},
    {with("created_at", "-1"), "created_at out of range"},
    {with("created_at", "9007199254740992"), "created_at out of range"},
    {with("created_at", "18446744073709551615"), "created_at out of range"},
    {with("created_at", "18446744073709551616"), "created_at must be an integer"}, // lexed as a float
    {with("kind", "1.0"), "kind must be an integer"},
    {with("kind", "\"1\""), "kind must be an integer"},
    {with("kind", "true"), "kind must be an integer"},
    {with("kind", "65536"), "kind out of range"},
    {with("kind", "-1"), "kind out of range"},
    {with("id", ("\"" + std::string(64, 'A') + "\"").c_str()), "id must be 64 lowercase hex"},
    {with("id", ("\"" + std::string(63, 'a') + "\"").c_str()), "id must be 64 lowercase hex"},
    {with("id", "7"), "id must be a string"},
    {with("pubkey", ("\"" + std::string(66, 'a') + "\"").c_str()), "pubkey must be 64 lowercase hex"},
    {with("pubkey", "[]"), "pubkey must be a string"},
    {with("sig", ("\"" + std::string(64, 'a') + "\"").c_str()), "sig must be 128 lowercase hex"},
    {with("sig", "{}"), "sig must be a string"},
    {with("content", "1"), "content must be a string"},
    {with("content", "null"), "content must be a string"},
    {with("tags", "{}"), "tags must be an array of arrays of strings"},
    {with("tags", "\"t\""), "tags must be an array of arrays of strings"},
    {with("tags", "[\"t\"]"), "tags must be an array of arrays of strings"},
    {with("tags", "[[\"t\", 1]]"), "tag elements must be strings"},
    {with("tags", "[[\"t\", null]]"), "tag elements must be strings"},
    {with("tags", "[[\"t\", [\"x\"]]]"), "tag elements must be strings"},
    {with("tags", "[[\"t\", {}]]"), "tag elements must be strings"},
    {with("id", nullptr), "missing field id"},
    {with("pubkey", nullptr), "missing field pubkey"},
    {with("created_at", nullptr), "missing field created_at"},
    {with("kind", nullptr), "missing field kind"},
    {with("tags", nullptr), "missing field tags"},
    {with("content", nullptr), "missing field content"},
    {with("sig", nullptr), "missing field sig"},
    {with("content", "\"a\", \"content\": \"b\""), "duplicate field content"},
    {with("content", "\"bad \xff byte\""), "ill-formed UTF-8"},
    {with("content", "\"overlong \xc0\xaf\""), "ill-formed UTF-8"},
    {with("content", "\"surrogate \xed\xa0\x80\""), "ill-formed UTF-8"},
    {with("content", "\"lone \\ud800 escape\""), "invalid JSON"},
    {with("content", "\"lone \\udc00 escape\""), "invalid JSON"},
    {with("content", "\"raw \x01 control\""), "invalid JSON"},
    {with("content", "'single'"), "invalid JSON"},
    {with("content", "\"x\"") + " trailing", "invalid JSON"},
    {"[]", "event must be a JSON object"},
    {"\"event\"", "event must be a JSON object"},
    {"42", "event must be a JSON object"},
    {"", "invalid JSON"},
    {"{", "invalid JSON"},
    {"{\"id\":", "invalid JSON"},
  };
  for (const auto& [json, reason] : cases) {
    const std::string error = parse_error_of(json);
    CAF_MESSAGE("reason: " << error);
    if (error.find(reason) == std::string::npos)
      CAF_ERROR("expected '" << reason << "', got '" << error << "'");
  }
}

CAF_TEST(parser error messages never quote the input) {
  const std::string error = parse_error_of(with("content", "\"x\" SECRETSTUFF"));
  CAF_CHECK(error.find("SECRETSTUFF") == std::string::npos);
  CAF_CHECK(error.find("invalid JSON at byte") != std::string::npos);
}
