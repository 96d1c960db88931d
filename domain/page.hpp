// Pagination of api.md: ?limit= (default 50, 1-500) and an opaque ?cursor=.
// A cursor encodes the position after which the next page starts; clients must
// not parse it (it is versioned so its form can change).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/errc.hpp"

namespace relayhost {

constexpr int64_t page_default_limit = 50;
constexpr int64_t page_max_limit = 500;

struct page_request {
  int64_t limit = page_default_limit;
  std::optional<int64_t> after;  // position (e.g. seq) from the cursor
};

/// Validates raw query values; errors name the field (limit or cursor).
std::variant<page_request, api_error> parse_page(const std::optional<std::string>& limit,
                                                 const std::optional<std::string>& cursor);

std::string encode_cursor(int64_t position);
std::optional<int64_t> decode_cursor(std::string_view cursor);

} // namespace relayhost
