// relayhost's configuration, read from the environment (architecture.md,
// "Configuration"). Parsing is pure: it takes a lookup function, so tests feed it
// any environment. A bad value yields one error naming the variable; main prints
// it and exits 2.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/plans.hpp"

namespace relayhost {


/// host:port of a listener.
struct endpoint {
  std::string host;
  uint16_t port = 0;
};

/// An http:// URL split for a client: `Host` is sent exactly as `host_header`.
struct http_url {
  std::string scheme;  // "http"
  std::string host;
  uint16_t port = 80;
  std::string host_header;  // host[:port] exactly as written in the URL
  std::string base_path;    // "" or "/prefix" without a trailing slash
};

struct config {
  std::string database_url;
  std::string database_path;  // resolved file path
  endpoint listen;            // HOST, PORT
  std::string public_url;     // without trailing slash
  http_url zooid_api;
  std::string zooid_api_url;
  std::optional<std::string> platform_secret_hex;  // nullopt: generated/kept in the data dir
  std::string relay_domain;
  std::optional<std::string> nwc_url;  // secret: never printed
  std::vector<std::string> indexer_relays;
  std::vector<std::string> admin_pubkeys;  // lowercase hex
  std::string platform_name, platform_description, platform_picture;
  std::vector<std::string> platform_messaging_relays;
  std::vector<plan> plans;
  int64_t billing_grace_days = 7;
  bool billing_test_clock = false;
  int64_t billing_tick_seconds = 60;
  int64_t nwc_timeout_seconds = 60;
  int64_t nwc_max_in_flight = 8;             // NWC_MAX_IN_FLIGHT
  int64_t zooid_retry_base_seconds = 30;
  int64_t zooid_retry_max_seconds = 900;
  int64_t zooid_retry_limit = 6;
  int64_t nip98_max_skew_seconds = 60;
  int64_t zooid_timeout_seconds = 10;
  std::vector<std::string> reserved_subdomains;  // RESERVED_SUBDOMAINS only (built-ins apart)
  int64_t invoice_expiry_seconds = 86400;
  int64_t nwc_pay_retry_hours = 24;
  int64_t payment_check_seconds = 60;
  endpoint metrics;  // METRICS_ADDR
  std::string log_level = "info";
  std::string log_format = "text";
  // Operational settings beyond architecture.md (documented in README):
  int64_t io_threads = 2;              // IO_THREADS
  int64_t actor_threads = 0;           // ACTOR_THREADS (0: one per CPU core)
  int64_t tenant_idle_seconds = 600;   // TENANT_IDLE_SECONDS
  int64_t shutdown_grace_seconds = 10; // SHUTDOWN_GRACE_SECONDS
  int64_t relay_max_message_bytes = 524288;  // RELAY_MAX_MESSAGE_BYTES
  int64_t relay_timeout_seconds = 10;        // RELAY_TIMEOUT_SECONDS
  int64_t outbox_retry_seconds = 30;         // OUTBOX_RETRY_SECONDS
  std::string relay_ca_file;                 // RELAY_CA_FILE ("" none)

  const plan* find_plan(std::string_view id) const;
};

struct config_error {
  std::string variable;
  std::string message;
  /// "PORT: must be an integer from 1 to 65535 (got "abc")".
  std::string line() const { return variable + ": " + message; }
};

using env_lookup = std::function<std::optional<std::string>(const char* name)>;

/// Reads every variable; the first bad one is the error.
std::variant<config, config_error> load_config(const env_lookup& env);

/// The process environment as an env_lookup.
env_lookup process_env();

/// `relayhost --help`: every variable with its default and meaning.
std::string help_text();

/// Parses `id:sats,…` (PLANS); nullopt + message on error.
std::optional<std::vector<plan>> parse_plans(std::string_view text, std::string* error);

} // namespace relayhost
