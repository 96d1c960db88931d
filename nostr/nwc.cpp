#include "nostr/nwc.hpp"

#include <array>
#include <cctype>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "nostr/hex.hpp"
#include "nostr/keys.hpp"
#include "nostr/nip04.hpp"
#include "nostr/nip44.hpp"
#include "nostr/sha256.hpp"

namespace relayhost::nostr {

namespace {

using json = nlohmann::json;

constexpr std::array<std::pair<nwc_error_code, const char*>, 11> error_names{{
  {nwc_error_code::rate_limited, "RATE_LIMITED"},
  {nwc_error_code::not_implemented, "NOT_IMPLEMENTED"},
  {nwc_error_code::insufficient_balance, "INSUFFICIENT_BALANCE"},
  {nwc_error_code::quota_exceeded, "QUOTA_EXCEEDED"},
  {nwc_error_code::restricted, "RESTRICTED"},
  {nwc_error_code::unauthorized, "UNAUTHORIZED"},
  {nwc_error_code::internal, "INTERNAL"},
  {nwc_error_code::unsupported_encryption, "UNSUPPORTED_ENCRYPTION"},
  {nwc_error_code::other, "OTHER"},
  {nwc_error_code::payment_failed, "PAYMENT_FAILED"},
  {nwc_error_code::not_found, "NOT_FOUND"},
}};

template <class T>
std::nullopt_t fail(std::string* error, T&& why) {
  if (error)
    *error = std::forward<T>(why);
  return std::nullopt;
}

/// Words separated by spaces and/or commas.
std::set<std::string> words(std::string_view s) {
  std::set<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ' ' || c == ',' || c == '\t' || c == '\n') {
      if (!cur.empty())
        out.insert(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty())
    out.insert(std::move(cur));
  return out;
}

const std::string* tag_value(const event& ev, std::string_view name) {
  for (auto& t : ev.tags)
    if (t.size() >= 2 && t[0] == name)
      return &t[1];
  return nullptr;
}

} // namespace

const char* to_string(nwc_encryption e) {
  return e == nwc_encryption::nip44_v2 ? "nip44_v2" : "nip04";
}

std::optional<nwc_encryption> nwc_info::chosen() const {
  if (nip44_v2)
    return nwc_encryption::nip44_v2;
  if (nip04)
    return nwc_encryption::nip04;
  return std::nullopt;
}

std::optional<nwc_info> parse_nwc_info(const event& ev, std::string_view wallet_pubkey, std::string* error) {
  if (ev.kind != kind_nwc_info)
    return fail(error, "not a kind-13194 info event");
  if (ev.pubkey != wallet_pubkey)
    return fail(error, "the info event is not the wallet's");
  if (!verify_event(ev))
    return fail(error, "the info event's id or signature is invalid");
  nwc_info info;
  info.methods = words(ev.content);
  if (auto* enc = tag_value(ev, "encryption")) {
    auto schemes = words(*enc);
    info.nip44_v2 = schemes.count("nip44_v2") > 0;
    info.nip04 = schemes.count("nip04") > 0;
  } else {
    info.nip04 = true;  // NIP-47: no encryption tag means NIP-04 only
  }
  return info;
}

nwc_error_code parse_nwc_error_code(std::string_view code) {
  for (auto& [c, name] : error_names)
    if (code == name)
      return c;
  return nwc_error_code::other;
}

const char* to_string(nwc_error_code c) {
  for (auto& [code, name] : error_names)
    if (code == c)
      return name;
  return "OTHER";
}

event make_nwc_request(const secret_key& client, std::string_view wallet_pubkey, std::string_view method,
                       std::string_view params_json, nwc_encryption enc, int64_t now, int64_t expiration) {
  auto params = json::parse(params_json, nullptr, false);
  if (params.is_discarded() || !params.is_object())
    throw std::invalid_argument("nwc: params must be a JSON object");
  json body{{"method", std::string(method)}, {"params", std::move(params)}};
  auto plaintext = body.dump(-1, ' ', false, json::error_handler_t::strict);
  event ev;
  ev.kind = kind_nwc_request;
  ev.created_at = now;
  ev.tags.push_back({"p", std::string(wallet_pubkey)});
  if (enc == nwc_encryption::nip44_v2) {
    auto key = nip44_get_conversation_key(client, wallet_pubkey);
    if (!key)
      throw std::invalid_argument("nwc: the wallet's public key is not a valid x-only key");
    ev.content = nip44_encrypt(plaintext, *key);
    ev.tags.push_back({"encryption", "nip44_v2"});
  } else {
    ev.content = nip04_encrypt(client, wallet_pubkey, plaintext);
  }
  if (expiration > 0)
    ev.tags.push_back({"expiration", std::to_string(expiration)});
  return sign_event(std::move(ev), client);
}

std::optional<nwc_response> open_nwc_response(const event& ev, const secret_key& client,
                                              std::string_view wallet_pubkey, std::string_view request_id,
                                              std::string_view method, std::string* error) {
  if (ev.kind != kind_nwc_response)
    return fail(error, "not a kind-23195 response");
  if (ev.pubkey != wallet_pubkey)
    return fail(error, "not signed by the wallet");
  auto* e = tag_value(ev, "e");
  if (!e || *e != request_id)
    return fail(error, "its e tag is not the request");
  if (!verify_event(ev))
    return fail(error, "its id or signature is invalid");
  std::optional<std::string> plaintext;
  std::string why;
  if (ev.content.find("?iv=") != std::string::npos) {
    plaintext = nip04_decrypt(client, wallet_pubkey, ev.content, &why);
  } else {
    auto key = nip44_get_conversation_key(client, wallet_pubkey);
    if (!key)
      return fail(error, "the wallet's public key is not a valid x-only key");
    plaintext = nip44_decrypt(ev.content, *key, &why);
  }
  if (!plaintext)
    return fail(error, "it does not decrypt: " + why);
  auto body = json::parse(*plaintext, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return fail(error, "its content is not a JSON object");
  auto rt = body.find("result_type");
  if (rt == body.end() || !rt->is_string())
    return fail(error, "it has no result_type");
  if (rt->get_ref<const std::string&>() != method)
    return fail(error, "its result_type is not the request's method");
  nwc_response r;
  r.result_type = rt->get<std::string>();
  auto err = body.find("error");
  if (err != body.end() && !err->is_null()) {
    if (!err->is_object())
      return fail(error, "its error is not an object");
    auto code = err->find("code");
    std::string code_text = code != err->end() && code->is_string() ? code->get<std::string>() : "";
    r.error = parse_nwc_error_code(code_text);
    auto msg = err->find("message");
    r.error_message = msg != err->end() && msg->is_string() ? msg->get<std::string>() : "";
    if (*r.error == nwc_error_code::other && code_text != "OTHER" && !code_text.empty())
      r.error_message = code_text + (r.error_message.empty() ? "" : ": " + r.error_message);
    return r;
  }
  auto result = body.find("result");
  if (result == body.end() || result->is_null())
    return r;  // some methods answer an empty result
  if (!result->is_object())
    return fail(error, "its result is not an object");
  r.result_json = result->dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

const char* to_string(invoice_status s) {
  switch (s) {
    case invoice_status::pending: return "pending";
    case invoice_status::settled: return "settled";
    case invoice_status::expired: return "expired";
    case invoice_status::failed: return "failed";
  }
  return "pending";
}

bool preimage_matches(std::string_view preimage_hex, std::string_view payment_hash_hex) {
  std::array<uint8_t, 32> pre{};
  if (preimage_hex.size() != 64 || payment_hash_hex.size() != 64 || !from_hex(preimage_hex, pre.data(), pre.size()))
    return false;
  std::string lower;
  for (char c : payment_hash_hex)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return to_hex(sha256(pre.data(), pre.size())) == lower;
}

invoice_lookup normalize_lookup(std::string_view result_json, std::string_view payment_hash) {
  invoice_lookup out;
  auto r = json::parse(result_json, nullptr, false);
  if (r.is_discarded() || !r.is_object())
    return out;
  if (auto p = r.find("preimage"); p != r.end() && p->is_string() && preimage_matches(p->get_ref<const std::string&>(), payment_hash))
    out.preimage = p->get<std::string>();
  if (auto s = r.find("settled_at"); s != r.end() && s->is_number_integer() && s->get<int64_t>() > 0)
    out.settled_at = s->get<int64_t>();
  std::string state;
  if (auto s = r.find("state"); s != r.end() && s->is_string())
    state = s->get<std::string>();
  if (state == "settled" || out.settled_at > 0 || !out.preimage.empty())
    out.status = invoice_status::settled;
  else if (state == "expired")
    out.status = invoice_status::expired;
  else if (state == "failed")
    out.status = invoice_status::failed;
  return out;  // pending: an old wallet without `state` is compared with expires_at by the caller
}

} // namespace relayhost::nostr
