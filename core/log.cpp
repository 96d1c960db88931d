#include "core/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <nlohmann/json.hpp>

namespace relayhost::log {

namespace {

std::atomic<int> g_threshold{static_cast<int>(level::info)};
std::atomic<bool> g_json{false};
std::mutex g_write_mutex;

std::string_view level_name(level l) {
  switch (l) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
  }
  return "info";
}

std::string timestamp() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

// Text values with spaces, quotes or control characters are JSON-quoted so a
// line stays one line and stays parseable.
void append_text_value(std::string& out, const std::string& v) {
  bool plain = !v.empty();
  for (unsigned char c : v)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) {
      plain = false;
      break;
    }
  if (plain)
    out += v;
  else
    out += nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace

bool parse_level(std::string_view text, level& out) noexcept {
  if (text == "debug") out = level::debug;
  else if (text == "info") out = level::info;
  else if (text == "warn") out = level::warn;
  else if (text == "error") out = level::error;
  else return false;
  return true;
}

void configure(level threshold, bool json) {
  g_threshold = static_cast<int>(threshold);
  g_json = json;
}

bool enabled(level lvl) noexcept {
  return static_cast<int>(lvl) >= g_threshold.load(std::memory_order_relaxed);
}

void write(level lvl, std::string_view message, std::initializer_list<field> fields) {
  if (!enabled(lvl))
    return;
  std::string line;
  if (g_json.load(std::memory_order_relaxed)) {
    nlohmann::json j;
    j["time"] = timestamp();
    j["level"] = level_name(lvl);
    j["msg"] = message;
    for (auto& [k, v] : fields)
      j[std::string(k)] = v;
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = timestamp();
    line += ' ';
    line += level_name(lvl);
    line += ' ';
    line += message;
    for (auto& [k, v] : fields) {
      line += ' ';
      line += k;
      line += '=';
      append_text_value(line, v);
    }
  }
  line += '\n';
  std::lock_guard<std::mutex> guard{g_write_mutex};
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

} // namespace relayhost::log
