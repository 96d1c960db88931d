#include "domain/page.hpp"

namespace relayhost {

namespace {
constexpr std::string_view cursor_prefix = "c1.";

bool parse_int(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 18)
    return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}
} // namespace

// Positions are non-negative integers; the cursor is "c1." + the position in
// base 36, which is opaque enough and needs no padding or escaping in a URL.
std::string encode_cursor(int64_t position) {
  static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out;
  uint64_t v = static_cast<uint64_t>(position);
  do {
    out.insert(out.begin(), digits[v % 36]);
    v /= 36;
  } while (v);
  return std::string(cursor_prefix) + out;
}

std::optional<int64_t> decode_cursor(std::string_view c) {
  if (c.substr(0, cursor_prefix.size()) != cursor_prefix)
    return std::nullopt;
  c.remove_prefix(cursor_prefix.size());
  if (c.empty() || c.size() > 12 || (c.size() > 1 && c.front() == '0'))
    return std::nullopt;
  int64_t v = 0;
  for (char ch : c) {
    int d;
    if (ch >= '0' && ch <= '9') d = ch - '0';
    else if (ch >= 'a' && ch <= 'z') d = ch - 'a' + 10;
    else return std::nullopt;
    v = v * 36 + d;
  }
  return v;
}

std::variant<page_request, api_error> parse_page(const std::optional<std::string>& limit,
                                                 const std::optional<std::string>& cursor) {
  page_request p;
  if (limit) {
    if (!parse_int(*limit, p.limit) || p.limit < 1 || p.limit > page_max_limit)
      return api_error::invalid_field("limit", "limit must be an integer from 1 to 500");
  }
  if (cursor) {
    auto pos = decode_cursor(*cursor);
    if (!pos)
      return api_error::invalid_field("cursor", "cursor is malformed");
    p.after = *pos;
  }
  return p;
}

} // namespace relayhost
