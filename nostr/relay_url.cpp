#include "nostr/relay_url.hpp"

#include <cctype>

namespace relayhost::nostr {

namespace {

constexpr size_t max_url_bytes = 2048;

std::optional<relay_url> fail(std::string* error, const char* why) {
  if (error)
    *error = why;
  return std::nullopt;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool host_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '-' || c == '.' || c == '_';
}

} // namespace

std::optional<relay_url> parse_relay_url(std::string_view url, std::string* error) {
  if (url.size() > max_url_bytes)
    return fail(error, "longer than 2048 bytes");
  for (unsigned char c : url)
    if (c <= ' ' || c == 0x7f)
      return fail(error, "contains a space or a control character");
  auto sep = url.find("://");
  if (sep == std::string_view::npos)
    return fail(error, "must be a ws:// or wss:// URL");
  auto scheme = lower(url.substr(0, sep));
  relay_url out;
  if (scheme == "wss")
    out.tls = true;
  else if (scheme != "ws")
    return fail(error, "must be a ws:// or wss:// URL");
  auto rest = url.substr(sep + 3);
  if (rest.find('#') != std::string_view::npos)
    return fail(error, "must not have a fragment");
  auto path_at = rest.find_first_of("/?");
  auto authority = rest.substr(0, path_at);
  auto tail = path_at == std::string_view::npos ? std::string_view{} : rest.substr(path_at);
  if (authority.find('@') != std::string_view::npos)
    return fail(error, "must not have user info");
  if (authority.empty())
    return fail(error, "has no host");

  std::string_view host, port;
  bool ipv6 = false;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return fail(error, "has an unclosed [ in its host");
    host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return fail(error, "has junk after its IPv6 address");
      port = after.substr(1);
      if (port.empty())
        return fail(error, "has an empty port");
    }
    if (host.empty())
      return fail(error, "has no host");
    for (char c : host)
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.')
        return fail(error, "has an invalid IPv6 address");
    ipv6 = true;
  } else {
    auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty())
        return fail(error, "has an empty port");
    }
    if (host.empty())
      return fail(error, "has no host");
    for (char c : host)
      if (!host_char(c))
        return fail(error, "has an invalid character in its host");
    if (host.front() == '.' || host.front() == '-' || host.find("..") != std::string_view::npos)
      return fail(error, "has an invalid host");
  }
  uint16_t default_port = out.tls ? 443 : 80;
  out.port = default_port;
  if (!port.empty()) {
    if (port.size() > 5)
      return fail(error, "has a port outside 1-65535");
    unsigned long v = 0;
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c)))
        return fail(error, "has a port that is not a number");
      v = v * 10 + static_cast<unsigned long>(c - '0');
    }
    if (v < 1 || v > 65535)
      return fail(error, "has a port outside 1-65535");
    out.port = static_cast<uint16_t>(v);
  }
  out.host = lower(host);
  if (!out.host.empty() && out.host.back() == '.' && !ipv6)
    out.host.pop_back();  // "relay.example." is relay.example
  if (out.host.empty())
    return fail(error, "has no host");

  // The path and query as written; "/" alone, and any trailing "/" of the path, dropped.
  std::string path(tail);
  std::string query;
  if (auto q = path.find('?'); q != std::string::npos) {
    query = path.substr(q);
    path.resize(q);
  }
  while (!path.empty() && path.back() == '/')
    path.pop_back();
  out.target = (path.empty() ? "/" : path) + query;

  out.normalized = scheme + "://" + (ipv6 ? "[" + out.host + "]" : out.host);
  if (out.port != default_port)
    out.normalized += ":" + std::to_string(out.port);
  out.normalized += path + query;
  return out;
}

} // namespace relayhost::nostr
