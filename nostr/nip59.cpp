// NIP-59 seal and gift wrap around NIP-17 kind-14 messages, on NIP-44 v2.
#include "nostr/nip59.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "nostr/keys.hpp"
#include "nostr/nip44.hpp"
#include "nostr/secp.hpp"

namespace relayhost::nostr {

namespace {

using json = nlohmann::json;

/// A time uniformly in [now − 2 days, now], so relays cannot link seal and wrap
/// to the moment of sending.
int64_t backdated(int64_t now) {
  uint64_t r = 0;
  random_bytes(reinterpret_cast<uint8_t*>(&r), sizeof r);
  auto back = static_cast<int64_t>(r % static_cast<uint64_t>(nip59_max_backdate_seconds + 1));
  return now - back < 0 ? 0 : now - back;
}

/// The rumor as NIP-59 carries it: every field but `sig`.
std::string rumor_json(const event& r) {
  json j{{"id", r.id}, {"pubkey", r.pubkey}, {"created_at", r.created_at},
         {"kind", r.kind}, {"tags", r.tags},  {"content", r.content}};
  return j.dump(-1, ' ', false, json::error_handler_t::strict);
}

nip44_conversation_key conversation(const secret_key& own, std::string_view peer) {
  auto k = nip44_get_conversation_key(own, peer);
  if (!k)
    throw std::invalid_argument("nip59: not a valid public key");
  return std::move(*k);
}

std::nullopt_t fail(std::string* error, const char* why) {
  if (error)
    *error = why;
  return std::nullopt;
}

} // namespace

event make_dm_rumor(std::string_view sender_pubkey, const dm_message& dm) {
  if (dm.text.empty())
    throw std::invalid_argument("nip17: empty message");
  event r;
  r.pubkey = std::string(sender_pubkey);
  r.created_at = dm.now;
  r.kind = kind_dm;
  r.tags = {{"p", dm.recipient_pubkey}};
  r.content = dm.text;
  r.id = compute_id(r);  // throws on invalid UTF-8
  return r;
}

event seal_rumor(const event& rumor, const secret_key& sender, std::string_view recipient_pubkey, int64_t now) {
  event s;
  s.kind = kind_seal;
  s.created_at = backdated(now);
  s.content = nip44_encrypt(rumor_json(rumor), conversation(sender, recipient_pubkey));
  return sign_event(std::move(s), sender);
}

event gift_wrap(const event& seal, std::string_view recipient_pubkey, int64_t now) {
  auto throwaway = secret_key::generate();
  event w;
  w.kind = kind_gift_wrap;
  w.created_at = backdated(now);
  w.tags = {{"p", std::string(recipient_pubkey)}};
  w.content = nip44_encrypt(to_json(seal), conversation(throwaway, recipient_pubkey));
  return sign_event(std::move(w), throwaway);
}

event wrap_dm(const secret_key& sender, const dm_message& dm) {
  if (!parse_pubkey(dm.recipient_pubkey) || dm.recipient_pubkey.size() != 64)
    throw std::invalid_argument("nip17: the recipient is not a valid public key");
  auto rumor = make_dm_rumor(sender.pubkey_hex(), dm);
  return gift_wrap(seal_rumor(rumor, sender, dm.recipient_pubkey, dm.now), dm.recipient_pubkey, dm.now);
}

std::optional<unwrapped_dm> unwrap_dm(const event& wrap, const secret_key& recipient, std::string* error) {
  if (wrap.kind != kind_gift_wrap)
    return fail(error, "not a gift wrap (kind 1059)");
  if (!verify_event(wrap))
    return fail(error, "the gift wrap's id or signature is invalid");
  auto k1 = nip44_get_conversation_key(recipient, wrap.pubkey);
  if (!k1)
    return fail(error, "the gift wrap's key is invalid");
  auto seal_text = nip44_decrypt(wrap.content, *k1);
  if (!seal_text)
    return fail(error, "the gift wrap does not decrypt with this key");
  auto seal = parse_event(*seal_text);
  if (!seal || seal->kind != kind_seal)
    return fail(error, "the gift wrap does not hold a seal (kind 13)");
  if (!verify_event(*seal))
    return fail(error, "the seal's id or signature is invalid");
  auto k2 = nip44_get_conversation_key(recipient, seal->pubkey);
  if (!k2)
    return fail(error, "the seal's key is invalid");
  auto rumor_text = nip44_decrypt(seal->content, *k2);
  if (!rumor_text)
    return fail(error, "the seal does not decrypt");
  // The rumor has no signature: parse it strictly with a placeholder one.
  auto j = json::parse(*rumor_text, nullptr, false);
  if (!j.is_object() || j.contains("sig"))
    return fail(error, "the rumor is not an unsigned event");
  j["sig"] = std::string(128, '0');
  std::string dumped;
  try {
    dumped = j.dump(-1, ' ', false, json::error_handler_t::strict);
  } catch (const std::exception&) {
    return fail(error, "the rumor is not valid UTF-8");
  }
  auto rumor = parse_event(dumped);
  if (!rumor)
    return fail(error, "the rumor is not a valid event");
  rumor->sig.clear();
  if (!id_matches(*rumor))
    return fail(error, "the rumor's id does not match its content");
  if (rumor->pubkey != seal->pubkey)
    return fail(error, "the rumor's author is not the seal's signer");
  if (rumor->kind != kind_dm)
    return fail(error, "the rumor is not a direct message (kind 14)");
  unwrapped_dm out{std::move(*rumor), std::move(*seal), {}};
  out.sender = out.seal.pubkey;
  return out;
}

} // namespace relayhost::nostr
