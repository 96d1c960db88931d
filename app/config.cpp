#include "app/config.hpp"

#include <cstdlib>
#include <set>
#include <fstream>
#include <sstream>

#include "nostr/keys.hpp"
#include "nostr/nwc_uri.hpp"
#include "nostr/relay_url.hpp"
#include "storage/database.hpp"

namespace relayhost {

namespace {

struct variable_doc {
  const char* name;
  const char* fallback;
  const char* meaning;
};

// The single list behind --help; load_config reads exactly these.
constexpr variable_doc variables[] = {
  {"DATABASE_URL", "sqlite://data/hosting.db", "SQLite database (sqlite://path or a path); its directory is created"},
  {"HOST", "127.0.0.1", "public listener address"},
  {"PORT", "3000", "public listener port"},
  {"PUBLIC_URL", "http://HOST:PORT", "externally visible base URL (NIP-98 'u' checks behind a proxy)"},
  {"ZOOID_API_URL", "http://127.0.0.1:8032", "zooid management API (Host is sent exactly as written here)"},
  {"PLATFORM_SECRET", "generated", "platform Nostr secret key (hex or nsec); if unset, generated once and kept in the database directory (mode 0600)"},
  {"RELAY_DOMAIN", "spaces.coracle.social", "base domain of hosted relays"},
  {"NWC_URL", "unset: billing disabled", "platform wallet connection (nostr+walletconnect://…)"},
  {"NOSTR_INDEXER_RELAYS", "unset: notifications disabled", "comma-separated ws(s):// relays: read kind 10050, publish platform events"},
  {"HOSTING_ADMIN_PUBKEYS", "none", "comma-separated admin pubkeys (hex or npub)"},
  {"PLATFORM_NAME", "", "platform profile name"},
  {"PLATFORM_DESCRIPTION", "", "platform profile description"},
  {"PLATFORM_PICTURE", "", "platform profile picture URL"},
  {"PLATFORM_MESSAGING_RELAYS", "", "comma-separated ws(s):// relays where the platform receives DMs"},
  {"PLANS", "free:0,basic:5000,growth:25000", "plan catalog: id:sats_per_month,…"},
  {"BILLING_GRACE_DAYS", "7", "days between invoice and delinquency"},
  {"BILLING_TEST_CLOCK", "0", "1 enables the admin test clock"},
  {"BILLING_TICK_SECONDS", "60", "how often the scheduler wakes"},
  {"NWC_TIMEOUT_SECONDS", "60", "wait for a wallet's answer"},
  {"NWC_MAX_IN_FLIGHT", "8", "NIP-47 requests out at once per wallet (the rest wait in FIFO order)"},
  {"ZOOID_RETRY_BASE_SECONDS", "30", "first zooid retry delay (doubles)"},
  {"ZOOID_RETRY_MAX_SECONDS", "900", "zooid retry delay cap"},
  {"ZOOID_RETRY_LIMIT", "6", "zooid attempts before a sync is 'failed'"},
  {"NIP98_MAX_SKEW_SECONDS", "60", "NIP-98 freshness window (±seconds)"},
  {"ZOOID_TIMEOUT_SECONDS", "10", "timeout of one zooid call"},
  {"RESERVED_SUBDOMAINS", "", "extra reserved subdomains, comma-separated"},
  {"INVOICE_EXPIRY_SECONDS", "86400", "bolt11 expiry asked of the wallet"},
  {"NWC_PAY_RETRY_HOURS", "24", "spacing of automatic payment attempts per invoice"},
  {"PAYMENT_CHECK_SECONDS", "60", "first interval of out-of-band payment checks"},
  {"METRICS_ADDR", "127.0.0.1:9464", "Prometheus listener host:port"},
  {"LOG_LEVEL", "info", "debug | info | warn | error"},
  {"LOG_FORMAT", "text", "text | json"},
  {"IO_THREADS", "2", "HTTP io threads (1-64)"},
  {"ACTOR_THREADS", "0", "actor scheduler threads (0: one per CPU core; 1-64)"},
  {"TENANT_IDLE_SECONDS", "600", "a tenant actor idle this long is stopped (its state stays in the database)"},
  {"SHUTDOWN_GRACE_SECONDS", "10", "on SIGINT/SIGTERM, how long in-flight requests may take to finish"},
  {"RELAY_MAX_MESSAGE_BYTES", "524288", "largest websocket message accepted from a Nostr relay; a bigger one closes that connection"},
  {"RELAY_TIMEOUT_SECONDS", "10", "wait for a Nostr relay's OK to a publication, or its EOSE to a query"},
  {"OUTBOX_RETRY_SECONDS", "30", "first retry of a DM no inbox relay accepted; doubles up to 1 h"},
  {"RELAY_CA_FILE", "", "PEM file of a CA trusted for wss:// relays besides the system store (private CAs)"},
};

struct reader {
  const env_lookup& env;
  std::optional<config_error> error;

  std::optional<std::string> raw(const char* name) {
    auto v = env(name);
    if (v && v->empty())
      return std::nullopt; // an empty variable means "use the default"
    return v;
  }

  void fail(const char* name, std::string message) {
    if (!error)
      error = config_error{name, std::move(message)};
  }

  std::string text(const char* name, std::string fallback) {
    auto v = raw(name);
    return v ? *v : fallback;
  }

  int64_t integer(const char* name, int64_t fallback, int64_t lo, int64_t hi) {
    auto v = raw(name);
    if (!v)
      return fallback;
    char* end = nullptr;
    errno = 0;
    long long x = std::strtoll(v->c_str(), &end, 10);
    bool digits_only = !v->empty() && v->find_first_not_of("0123456789-") == std::string::npos;
    if (!digits_only || errno != 0 || end != v->c_str() + v->size() || x < lo || x > hi) {
      fail(name, "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi) +
                   " (got \"" + *v + "\")");
      return fallback;
    }
    return x;
  }

  bool flag(const char* name) {
    auto v = raw(name);
    if (!v || *v == "0" || *v == "false")
      return false;
    if (*v == "1" || *v == "true")
      return true;
    fail(name, "must be 1 or 0 (got \"" + *v + "\")");
    return false;
  }

  std::vector<std::string> list(const char* name) {
    std::vector<std::string> out;
    auto v = raw(name);
    if (!v)
      return out;
    std::string item;
    std::istringstream in(*v);
    while (std::getline(in, item, ',')) {
      auto b = item.find_first_not_of(" \t");
      auto e = item.find_last_not_of(" \t");
      if (b == std::string::npos)
        continue;
      out.push_back(item.substr(b, e - b + 1));
    }
    return out;
  }

  std::vector<std::string> ws_relays(const char* name) {
    auto out = list(name);
    for (auto& r : out) {
      std::string why;
      if (!nostr::parse_relay_url(r, &why))
        fail(name, "\"" + r + "\" is not a usable ws:// or wss:// URL: " + why);
    }
    return out;
  }
};

bool parse_port(std::string_view s, uint16_t& out) {
  if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string_view::npos)
    return false;
  auto v = std::stoul(std::string(s));
  if (v < 1 || v > 65535)
    return false;
  out = static_cast<uint16_t>(v);
  return true;
}

bool valid_host(std::string_view h) {
  if (h.empty() || h.size() > 253)
    return false;
  for (unsigned char c : h)
    if (!(std::isalnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_'))
      return false;
  return true;
}

// scheme://host[:port][/path], no query or fragment.
std::optional<http_url> parse_http_url(std::string_view s, bool allow_https, std::string* why) {
  http_url u;
  std::string_view rest;
  if (s.substr(0, 7) == "http://") {
    u.scheme = "http";
    u.port = 80;
    rest = s.substr(7);
  } else if (allow_https && s.substr(0, 8) == "https://") {
    u.scheme = "https";
    u.port = 443;
    rest = s.substr(8);
  } else {
    *why = allow_https ? "must be an http:// or https:// URL" : "must be an http:// URL";
    return std::nullopt;
  }
  if (s.find_first_of("?# \t") != std::string_view::npos) {
    *why = "must not contain a query, fragment or spaces";
    return std::nullopt;
  }
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  auto path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  while (!path.empty() && path.back() == '/')
    path.remove_suffix(1);
  u.host_header = std::string(authority);
  auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    if (!parse_port(authority.substr(colon + 1), u.port)) {
      *why = "has an invalid port";
      return std::nullopt;
    }
    authority = authority.substr(0, colon);
  }
  if (!valid_host(authority)) {
    *why = "has an invalid host";
    return std::nullopt;
  }
  u.host = std::string(authority);
  u.base_path = std::string(path);
  return u;
}

} // namespace

const plan* config::find_plan(std::string_view id) const {
  return relayhost::find_plan(plans, id);
}

std::optional<std::vector<plan>> parse_plans(std::string_view text, std::string* error) {
  std::vector<plan> out;
  std::set<std::string> seen;
  size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    auto item = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    pos = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
    auto colon = item.find(':');
    if (colon == std::string_view::npos) {
      *error = "each plan must be id:sats_per_month (got \"" + std::string(item) + "\")";
      return std::nullopt;
    }
    auto id = item.substr(0, colon);
    auto sats = item.substr(colon + 1);
    if (id.empty() || id.size() > 32 ||
        id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") != std::string_view::npos) {
      *error = "plan id \"" + std::string(id) + "\" must be 1-32 of a-z 0-9 - _";
      return std::nullopt;
    }
    if (sats.empty() || sats.size() > 12 || sats.find_first_not_of("0123456789") != std::string_view::npos) {
      *error = "price of plan \"" + std::string(id) + "\" must be whole sats (got \"" + std::string(sats) + "\")";
      return std::nullopt;
    }
    if (!seen.insert(std::string(id)).second) {
      *error = "plan \"" + std::string(id) + "\" is listed twice";
      return std::nullopt;
    }
    out.push_back({std::string(id), std::stoll(std::string(sats))});
  }
  if (out.empty()) {
    *error = "at least one plan is required";
    return std::nullopt;
  }
  return out;
}

std::variant<config, config_error> load_config(const env_lookup& env) {
  reader r{env, std::nullopt};
  config c;

  c.database_url = r.text("DATABASE_URL", "sqlite://data/hosting.db");
  {
    std::string why;
    c.database_path = storage::database_path_from_url(c.database_url, &why);
    if (c.database_path.empty())
      r.fail("DATABASE_URL", why);
  }

  c.listen.host = r.text("HOST", "127.0.0.1");
  if (!valid_host(c.listen.host))
    r.fail("HOST", "is not a valid host name or address");
  {
    auto port = r.raw("PORT");
    c.listen.port = 3000;
    if (port && !parse_port(*port, c.listen.port))
      r.fail("PORT", "must be an integer from 1 to 65535 (got \"" + *port + "\")");
  }
  {
    auto pub = r.raw("PUBLIC_URL");
    std::string why;
    if (pub) {
      if (!parse_http_url(*pub, true, &why))
        r.fail("PUBLIC_URL", why);
      c.public_url = *pub;
      while (!c.public_url.empty() && c.public_url.back() == '/')
        c.public_url.pop_back();
    } else {
      c.public_url = "http://" + c.listen.host + ":" + std::to_string(c.listen.port);
    }
  }
  {
    c.zooid_api_url = r.text("ZOOID_API_URL", "http://127.0.0.1:8032");
    std::string why;
    auto u = parse_http_url(c.zooid_api_url, false, &why);
    if (!u)
      r.fail("ZOOID_API_URL", why);
    else
      c.zooid_api = *u;
  }
  if (auto s = r.raw("PLATFORM_SECRET")) {
    auto key = nostr::parse_secret_key(*s);
    if (!key)
      r.fail("PLATFORM_SECRET", "must be a 64-hex or nsec secret key (value not shown)");
    else
      c.platform_secret_hex = key->hex();
  }
  c.relay_domain = r.text("RELAY_DOMAIN", "spaces.coracle.social");
  if (!valid_host(c.relay_domain) || c.relay_domain.find(':') != std::string::npos ||
      c.relay_domain.find('.') == std::string::npos)
    r.fail("RELAY_DOMAIN", "must be a domain name such as spaces.example.com");
  if (auto n = r.raw("NWC_URL")) {
    std::string why;
    if (!nostr::parse_nwc_uri(*n, &why))
      r.fail("NWC_URL", why + " (value not shown)");
    else
      c.nwc_url = *n;
  }
  c.indexer_relays = r.ws_relays("NOSTR_INDEXER_RELAYS");
  for (auto& a : r.list("HOSTING_ADMIN_PUBKEYS")) {
    auto pk = nostr::parse_pubkey(a);
    if (!pk)
      r.fail("HOSTING_ADMIN_PUBKEYS", "\"" + a + "\" is not a hex or npub public key");
    else
      c.admin_pubkeys.push_back(*pk);
  }
  c.platform_name = r.text("PLATFORM_NAME", "");
  c.platform_description = r.text("PLATFORM_DESCRIPTION", "");
  c.platform_picture = r.text("PLATFORM_PICTURE", "");
  c.platform_messaging_relays = r.ws_relays("PLATFORM_MESSAGING_RELAYS");
  {
    std::string why;
    auto plans = parse_plans(r.text("PLANS", "free:0,basic:5000,growth:25000"), &why);
    if (!plans)
      r.fail("PLANS", why);
    else
      c.plans = std::move(*plans);
  }
  c.billing_grace_days = r.integer("BILLING_GRACE_DAYS", 7, 0, 365);
  c.billing_test_clock = r.flag("BILLING_TEST_CLOCK");
  c.billing_tick_seconds = r.integer("BILLING_TICK_SECONDS", 60, 1, 86400);
  c.nwc_timeout_seconds = r.integer("NWC_TIMEOUT_SECONDS", 60, 1, 3600);
  c.nwc_max_in_flight = r.integer("NWC_MAX_IN_FLIGHT", 8, 1, 1000);
  c.zooid_retry_base_seconds = r.integer("ZOOID_RETRY_BASE_SECONDS", 30, 1, 86400);
  c.zooid_retry_max_seconds = r.integer("ZOOID_RETRY_MAX_SECONDS", 900, 1, 86400);
  if (c.zooid_retry_max_seconds < c.zooid_retry_base_seconds)
    r.fail("ZOOID_RETRY_MAX_SECONDS", "must not be below ZOOID_RETRY_BASE_SECONDS");
  c.zooid_retry_limit = r.integer("ZOOID_RETRY_LIMIT", 6, 1, 1000);
  c.nip98_max_skew_seconds = r.integer("NIP98_MAX_SKEW_SECONDS", 60, 1, 3600);
  c.zooid_timeout_seconds = r.integer("ZOOID_TIMEOUT_SECONDS", 10, 1, 600);
  c.reserved_subdomains = r.list("RESERVED_SUBDOMAINS");
  c.relay_max_message_bytes = r.integer("RELAY_MAX_MESSAGE_BYTES", 524288, 1024, 16 * 1024 * 1024);
  c.relay_timeout_seconds = r.integer("RELAY_TIMEOUT_SECONDS", 10, 1, 600);
  c.outbox_retry_seconds = r.integer("OUTBOX_RETRY_SECONDS", 30, 1, 3600);
  if (auto ca = r.raw("RELAY_CA_FILE")) {
    std::ifstream probe(*ca);
    if (!probe)
      r.fail("RELAY_CA_FILE", "cannot read \"" + *ca + "\"");
    else
      c.relay_ca_file = *ca;
  }
  c.invoice_expiry_seconds = r.integer("INVOICE_EXPIRY_SECONDS", 86400, 60, 30 * 86400);
  c.nwc_pay_retry_hours = r.integer("NWC_PAY_RETRY_HOURS", 24, 1, 24 * 365);
  c.payment_check_seconds = r.integer("PAYMENT_CHECK_SECONDS", 60, 1, 86400);
  {
    auto m = r.text("METRICS_ADDR", "127.0.0.1:9464");
    auto colon = m.rfind(':');
    if (colon == std::string::npos || !valid_host(m.substr(0, colon)) ||
        !parse_port(m.substr(colon + 1), c.metrics.port))
      r.fail("METRICS_ADDR", "must be host:port (got \"" + m + "\")");
    else
      c.metrics.host = m.substr(0, colon);
  }
  c.log_level = r.text("LOG_LEVEL", "info");
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" && c.log_level != "error")
    r.fail("LOG_LEVEL", "must be debug, info, warn or error (got \"" + c.log_level + "\")");
  c.log_format = r.text("LOG_FORMAT", "text");
  if (c.log_format != "text" && c.log_format != "json")
    r.fail("LOG_FORMAT", "must be text or json (got \"" + c.log_format + "\")");
  c.io_threads = r.integer("IO_THREADS", 2, 1, 64);
  c.actor_threads = r.integer("ACTOR_THREADS", 0, 0, 64);
  c.tenant_idle_seconds = r.integer("TENANT_IDLE_SECONDS", 600, 1, 86400 * 30);
  c.shutdown_grace_seconds = r.integer("SHUTDOWN_GRACE_SECONDS", 10, 0, 600);

  if (r.error)
    return *r.error;
  return c;
}

env_lookup process_env() {
  return [](const char* name) -> std::optional<std::string> {
    if (const char* v = std::getenv(name))
      return std::string(v);
    return std::nullopt;
  };
}

std::string help_text() {
  std::ostringstream out;
  out << "relayhost " << RELAYHOST_VERSION
      << " - backend of a Nostr relay hosting platform\n\n"
         "usage: relayhost [--help] [--version]\n\n"
         "All configuration comes from environment variables (an empty value means the default):\n\n";
  for (auto& v : variables) {
    out << "  " << v.name;
    for (size_t i = std::string_view(v.name).size(); i < 28; ++i)
      out << ' ';
    out << v.meaning << "\n  " << std::string(28, ' ') << "default: " << (*v.fallback ? v.fallback : "(empty)")
        << "\n";
  }
  out << "\nA bad value stops the start with one line naming the variable (exit code 2).\n";
  return out.str();
}

} // namespace relayhost
