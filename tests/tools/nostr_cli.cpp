// rh_nostr_cli: relayhost's Nostr core on the command line, so integration tests
// can compare it with nostr-tools byte for byte. Every command reads JSON lines on
// stdin and writes one JSON line per input line on stdout.
//
//   inspect              event → {"serialized", "id", "id_matches", "signature_valid", "valid"}
//                        or {"error"} when parse_event rejects it
//   sign <hex|nsec>      {"kind","created_at","tags","content"} → the signed event
//   nip98-verify         {"authorization","method","url","body","now","skew"?} →
//                        {"ok","pubkey","error"}  (one verifier for all lines, so
//                        replays across lines are detected)
//   nip98-sign <hex|nsec> {"url","method","body","created_at"} → {"authorization"}
//   nip44-encrypt <hex|nsec> {"pubkey","plaintext"} → {"payload"}
//   nip44-decrypt <hex|nsec> {"pubkey","payload"} → {"plaintext"} or {"error"}
//   pubkey <hex|nsec>    (no stdin) → {"pubkey","npub"}
#include "nostr/event.hpp"
#include "nostr/keys.hpp"
#include "nostr/nip04.hpp"
#include "nostr/nip44.hpp"
#include "nostr/nip59.hpp"
#include "nostr/nip98.hpp"
#include "nostr/relay_url.hpp"

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>
#include <optional>
#include <string>

using namespace relayhost::nostr;
using json = nlohmann::json;

namespace {

constexpr int64_t default_skew_seconds = 60;

int usage() {
  std::cerr << "usage: rh_nostr_cli inspect | sign <key> | nip98-verify | nip98-sign <key> |\n"
               "                    nip44-encrypt <key> | nip44-decrypt <key> | pubkey <key> |\n"
               "                    nip04-encrypt <key> | nip04-decrypt <key> | wrap-dm <key> | unwrap-dm <key> |\n"
               "                    relay-url\n"
               "  (reads JSON lines on stdin; see the comment at the top of nostr_cli.cpp)\n";
  return 2;
}

std::optional<secret_key> key_arg(int argc, char** argv) {
  if (argc < 3)
    return std::nullopt;
  std::string error;
  auto key = parse_secret_key(argv[2], &error);
  if (!key)
    std::cerr << "rh_nostr_cli: " << error << "\n";
  return key;
}

void emit(const json& j) {
  std::cout << j.dump() << "\n" << std::flush;
}

json inspect(const std::string& line) {
  std::string error;
  auto ev = parse_event(line, &error);
  if (!ev)
    return {{"error", error}};
  const bool id_ok = id_matches(*ev);
  const bool sig_ok = signature_valid(*ev);
  return {{"serialized", serialize_for_id(*ev)},
          {"id", compute_id(*ev)},
          {"id_matches", id_ok},
          {"signature_valid", sig_ok},
          {"valid", verify_event(*ev)}};
}

json sign(const std::string& line, const secret_key& key) {
  const json t = json::parse(line);
  event ev;
  ev.kind = t.at("kind").get<int>();
  ev.created_at = t.at("created_at").get<int64_t>();
  ev.tags = t.value("tags", std::vector<std::vector<std::string>>{});
  ev.content = t.value("content", std::string());
  return json::parse(to_json(sign_event(std::move(ev), key)));
}

json nip98_verify(const std::string& line, std::unique_ptr<nip98_verifier>& verifier) {
  const json r = json::parse(line);
  if (!verifier)
    verifier = std::make_unique<nip98_verifier>(r.value("skew", default_skew_seconds));
  const std::string auth = r.value("authorization", std::string());
  const std::string method = r.at("method").get<std::string>();
  const std::string url = r.at("url").get<std::string>();
  const std::string body = r.value("body", std::string());
  const auto out = verifier->verify(nip98_check{auth, method, url, body}, r.at("now").get<int64_t>());
  return {{"ok", out.ok}, {"pubkey", out.pubkey}, {"error", out.error}};
}

json nip98_sign(const std::string& line, const secret_key& key) {
  const json r = json::parse(line);
  return {{"authorization",
           nip98_authorization(key, r.at("url").get<std::string>(), r.at("method").get<std::string>(),
                               r.value("body", std::string()), r.at("created_at").get<int64_t>())}};
}

nip44_conversation_key conversation(const json& r, const secret_key& key) {
  auto ck = nip44_get_conversation_key(key, r.at("pubkey").get<std::string>());
  if (!ck)
    throw std::invalid_argument("invalid pubkey");
  return std::move(*ck);
}

json nip44_encrypt_line(const std::string& line, const secret_key& key) {
  const json r = json::parse(line);
  return {{"payload", nip44_encrypt(r.at("plaintext").get<std::string>(), conversation(r, key))}};
}

json nip44_decrypt_line(const std::string& line, const secret_key& key) {
  const json r = json::parse(line);
  std::string error;
  auto plaintext = nip44_decrypt(r.at("payload").get<std::string>(), conversation(r, key), &error);
  if (!plaintext)
    return {{"error", error}};
  return {{"plaintext", *plaintext}};
}

// {"pubkey", "plaintext"} → {"payload"}
json nip04_encrypt_line(const std::string& line, const secret_key& key) {
  const json r = json::parse(line);
  return {{"payload", nip04_encrypt(key, r.at("pubkey").get<std::string>(), r.at("plaintext").get<std::string>())}};
}

// {"pubkey", "payload"} → {"plaintext"} | {"error"}
json nip04_decrypt_line(const std::string& line, const secret_key& key) {
  const json r = json::parse(line);
  std::string error;
  auto plaintext = nip04_decrypt(key, r.at("pubkey").get<std::string>(), r.at("payload").get<std::string>(), &error);
  if (!plaintext)
    return {{"error", error}};
  return {{"plaintext", *plaintext}};
}

// {"recipient", "text", "now"} → the gift wrap event, signed by a fresh key (sender: <key>)
json wrap_dm_line(const std::string& line, const secret_key& key) {
  const json r = json::parse(line);
  dm_message dm{r.at("recipient").get<std::string>(), r.at("text").get<std::string>(), r.at("now").get<int64_t>()};
  return json::parse(to_json(wrap_dm(key, dm)));
}

// a gift wrap event → {"sender", "kind", "text", "p", "rumor_id", "seal_created_at"} | {"error"} (recipient: <key>)
json unwrap_dm_line(const std::string& line, const secret_key& key) {
  std::string error;
  auto wrap = parse_event(line, &error);
  if (!wrap)
    return {{"error", error}};
  auto dm = unwrap_dm(*wrap, key, &error);
  if (!dm)
    return {{"error", error}};
  auto p = first_tag_value(dm->rumor, "p");
  return {{"sender", dm->sender}, {"kind", dm->rumor.kind}, {"text", dm->rumor.content},
          {"p", p ? json(std::string(*p)) : json(nullptr)}, {"rumor_id", dm->rumor.id}, {"seal_created_at", dm->seal.created_at}};
}

// {"url"} → {"normalized", "host", "port", "target", "tls"} | {"error"}
json relay_url_line(const std::string& line) {
  const json r = json::parse(line);
  std::string error;
  auto u = parse_relay_url(r.at("url").get<std::string>(), &error);
  if (!u)
    return {{"error", error}};
  return {{"normalized", u->normalized}, {"host", u->host}, {"port", u->port}, {"target", u->target}, {"tls", u->tls}};
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2)
    return usage();
  const std::string cmd = argv[1];
  std::optional<secret_key> key;
  if (cmd == "sign" || cmd == "nip98-sign" || cmd == "pubkey" || cmd == "nip44-encrypt"
      || cmd == "nip44-decrypt" || cmd == "nip04-encrypt" || cmd == "nip04-decrypt" || cmd == "wrap-dm"
      || cmd == "unwrap-dm") {
    key = key_arg(argc, argv);
    if (!key)
      return usage();
  } else if (cmd != "inspect" && cmd != "nip98-verify" && cmd != "relay-url") {
    return usage();
  }
  if (cmd == "pubkey") {
    const std::string pk = key->pubkey_hex();
    emit({{"pubkey", pk}, {"npub", to_npub(pk)}});
    return 0;
  }
  std::unique_ptr<nip98_verifier> verifier;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty())
      continue;
    try {
      if (cmd == "inspect")
        emit(inspect(line));
      else if (cmd == "sign")
        emit(sign(line, *key));
      else if (cmd == "nip98-verify")
        emit(nip98_verify(line, verifier));
      else if (cmd == "nip98-sign")
        emit(nip98_sign(line, *key));
      else if (cmd == "nip44-encrypt")
        emit(nip44_encrypt_line(line, *key));
      else if (cmd == "nip44-decrypt")
        emit(nip44_decrypt_line(line, *key));
      else if (cmd == "nip04-encrypt")
        emit(nip04_encrypt_line(line, *key));
      else if (cmd == "nip04-decrypt")
        emit(nip04_decrypt_line(line, *key));
      else if (cmd == "wrap-dm")
        emit(wrap_dm_line(line, *key));
      else if (cmd == "unwrap-dm")
        emit(unwrap_dm_line(line, *key));
      else
        emit(relay_url_line(line));
    } catch (const std::exception& e) {
      emit({{"error", std::string("bad input line: ") + e.what()}});
    }
  }
  return 0;
}
