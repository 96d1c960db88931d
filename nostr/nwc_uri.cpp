#include "nostr/nwc_uri.hpp"

#include <cctype>

#include "nostr/keys.hpp"
#include "nostr/relay_url.hpp"

namespace relayhost::nostr {

namespace {

constexpr std::string_view scheme = "nostr+walletconnect:";

bool fail(std::string* error, std::string message) {
  if (error)
    *error = std::move(message);
  return false;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> decode_component(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%') {
      if (i + 2 >= in.size())
        return std::nullopt;
      int hi = hex_digit(in[i + 1]), lo = hex_digit(in[i + 2]);
      if (hi < 0 || lo < 0)
        return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_hex64(std::string_view s) {
  if (s.size() != 64)
    return false;
  for (char c : s)
    if (hex_digit(c) < 0)
      return false;
  return true;
}

} // namespace

bool is_websocket_url(std::string_view url) {
  return parse_relay_url(url).has_value();
}

std::optional<nwc_uri> parse_nwc_uri(std::string_view text, std::string* error) {
  if (text.size() > 4096)
    return fail(error, "connection URI is too long"), std::nullopt;
  if (text.size() < scheme.size() || lowercase(text.substr(0, scheme.size())) != scheme)
    return fail(error, "must start with nostr+walletconnect://"), std::nullopt;
  auto rest = text.substr(scheme.size());
  if (rest.substr(0, 2) == "//") // some wallets omit the slashes
    rest.remove_prefix(2);
  auto qpos = rest.find('?');
  if (qpos == std::string_view::npos)
    return fail(error, "missing query (relay and secret are required)"), std::nullopt;
  auto pubkey = rest.substr(0, qpos);
  if (!pubkey.empty() && pubkey.back() == '/')
    pubkey.remove_suffix(1);
  if (!is_hex64(pubkey))
    return fail(error, "wallet pubkey must be 64 hex characters"), std::nullopt;
  nwc_uri out;
  out.wallet_pubkey = lowercase(pubkey);
  if (!parse_pubkey(out.wallet_pubkey))
    return fail(error, "wallet pubkey is not a valid public key"), std::nullopt;
  auto query = rest.substr(qpos + 1);
  bool have_secret = false;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    auto key = pair.substr(0, eq);
    auto raw = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    auto value = decode_component(raw);
    if (!value)
      return fail(error, "malformed percent-encoding in parameter '" + std::string(key) + "'"),
             std::nullopt;
    if (key == "relay") {
      if (!is_websocket_url(*value))
        return fail(error, "relay must be a ws:// or wss:// URL"), std::nullopt;
      out.relays.push_back(std::move(*value));
    } else if (key == "secret") {
      if (have_secret)
        return fail(error, "secret is given twice"), std::nullopt;
      if (!is_hex64(*value))
        return fail(error, "secret must be 64 hex characters"), std::nullopt;
      out.secret_hex = lowercase(*value);
      if (!secret_key::from_hex(out.secret_hex))
        return fail(error, "secret is not a valid secp256k1 secret key"), std::nullopt;
      have_secret = true;
    } else if (key == "lud16") {
      out.lud16 = std::move(*value);
    }
    // Other parameters are ignored, as wallets add their own.
  }
  if (out.relays.empty())
    return fail(error, "at least one relay parameter is required"), std::nullopt;
  if (!have_secret)
    return fail(error, "secret parameter is required"), std::nullopt;
  return out;
}

} // namespace relayhost::nostr
