// The process logger: one line per event, text (default) or JSON (LOG_FORMAT=json).
// CAF 0.17's own logging is compiled out in Debian's build, so this is ours.
// Secrets never reach it: callers pass only fields that are safe to print.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace relayhost::log {

enum class level { debug = 0, info = 1, warn = 2, error = 3 };

/// Parses "debug" | "info" | "warn" | "error".
bool parse_level(std::string_view text, level& out) noexcept;

/// Sets the threshold and format; call once at start (defaults: info, text).
void configure(level threshold, bool json);

/// True when `lvl` would be written (lets callers skip building fields).
bool enabled(level lvl) noexcept;

using field = std::pair<std::string_view, std::string>;

/// Writes one line to stderr (whole lines, never interleaved).
void write(level lvl, std::string_view message, std::initializer_list<field> fields = {});

inline void debug(std::string_view m, std::initializer_list<field> f = {}) { write(level::debug, m, f); }
inline void info(std::string_view m, std::initializer_list<field> f = {}) { write(level::info, m, f); }
inline void warn(std::string_view m, std::initializer_list<field> f = {}) { write(level::warn, m, f); }
inline void error(std::string_view m, std::initializer_list<field> f = {}) { write(level::error, m, f); }

} // namespace relayhost::log
