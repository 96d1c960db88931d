#include "billing/clock.hpp"

#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

namespace relayhost::billing {

namespace {

api_error field(const char* name, std::string message) {
  return api_error::invalid_field(name, std::move(message));
}

// An integer JSON number (not 1.5, not "5", not true), as int64.
std::optional<int64_t> integer(const nlohmann::json& v) {
  if (v.is_number_integer())
    return v.get<int64_t>();
  if (v.is_number_unsigned() && v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX))
    return static_cast<int64_t>(v.get<uint64_t>());
  return std::nullopt;
}

} // namespace

std::variant<api_error, int64_t> parse_clock_move(const std::string& body, int64_t now, int64_t real_now) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded())
    return api_error{errc::invalid_json, "the body is not valid JSON", {}};
  if (!j.is_object())
    return api_error{errc::invalid_json, "the body must be a JSON object", {}};
  for (auto& [k, v] : j.items())
    if (k != "advance_seconds" && k != "now")
      return field(k.c_str(), "unknown field " + k);
  bool has_advance = j.contains("advance_seconds"), has_now = j.contains("now");
  if (has_advance == has_now)
    return field(has_advance ? "now" : "advance_seconds", "give exactly one of advance_seconds or now");
  int64_t offset = now - real_now;
  if (has_advance) {
    auto n = integer(j["advance_seconds"]);
    if (!n)
      return field("advance_seconds", "advance_seconds must be an integer number of seconds");
    if (*n < 0)
      return field("advance_seconds", "the test clock never goes backwards: advance_seconds must be >= 0");
    if (*n > max_clock_move_seconds)
      return field("advance_seconds", "advance_seconds must be at most " + std::to_string(max_clock_move_seconds));
    return offset + *n;
  }
  auto t = integer(j["now"]);
  if (!t)
    return field("now", "now must be an integer unix time");
  if (*t < now)
    return field("now", "the test clock never goes backwards: now must be >= " + std::to_string(now));
  if (*t - now > max_clock_move_seconds)
    return field("now", "now must be at most " + std::to_string(max_clock_move_seconds) + " s ahead of the test clock");
  return *t - real_now;
}

} // namespace relayhost::billing
