#include "nostr/relay_message.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace relayhost::nostr {

namespace {

using json = nlohmann::json;

constexpr size_t max_subscription_id = 64;

relay_message malformed(const char* why) {
  relay_message m;
  m.type = relay_message_type::malformed;
  m.error = why;
  return m;
}

bool is_hex64(const std::string& s) {
  if (s.size() != 64)
    return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::strict);
}

} // namespace

relay_message parse_relay_message(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded())
    return malformed("not JSON");
  if (!j.is_array() || j.empty() || !j[0].is_string())
    return malformed("not an array starting with a type");
  const auto& type = j[0].get_ref<const std::string&>();
  relay_message m;
  auto str = [&](size_t i) -> const std::string* { return i < j.size() && j[i].is_string() ? &j[i].get_ref<const std::string&>() : nullptr; };
  if (type == "EVENT") {
    if (j.size() != 3 || !str(1) || !j[2].is_object())
      return malformed("EVENT must be [\"EVENT\", <subscription>, <event>]");
    std::string why;
    std::string ev_text;
    try {
      ev_text = dump(j[2]);
    } catch (const std::exception&) {
      return malformed("EVENT holds invalid UTF-8");
    }
    auto ev = parse_event(ev_text, &why);
    if (!ev)
      return malformed("EVENT holds an invalid event");
    m.type = relay_message_type::event;
    m.subscription_id = *str(1);
    m.event = std::move(ev);
  } else if (type == "OK") {
    if (j.size() != 4 || !str(1) || !j[2].is_boolean() || !str(3))
      return malformed("OK must be [\"OK\", <event id>, <bool>, <message>]");
    if (!is_hex64(*str(1)))
      return malformed("OK names an event id that is not 64 lowercase hex");
    m.type = relay_message_type::ok;
    m.event_id = *str(1);
    m.accepted = j[2].get<bool>();
    m.message = *str(3);
  } else if (type == "EOSE") {
    if (j.size() != 2 || !str(1))
      return malformed("EOSE must be [\"EOSE\", <subscription>]");
    m.type = relay_message_type::eose;
    m.subscription_id = *str(1);
  } else if (type == "CLOSED") {
    if (j.size() < 2 || j.size() > 3 || !str(1) || (j.size() == 3 && !str(2)))
      return malformed("CLOSED must be [\"CLOSED\", <subscription>, <message>]");
    m.type = relay_message_type::closed;
    m.subscription_id = *str(1);
    if (j.size() == 3)
      m.message = *str(2);
  } else if (type == "NOTICE") {
    if (j.size() != 2 || !str(1))
      return malformed("NOTICE must be [\"NOTICE\", <message>]");
    m.type = relay_message_type::notice;
    m.message = *str(1);
  } else if (type == "AUTH") {
    if (j.size() != 2 || !str(1) || str(1)->empty())
      return malformed("AUTH must be [\"AUTH\", <challenge>]");
    m.type = relay_message_type::auth;
    m.challenge = *str(1);
  } else if (type == "COUNT") {
    if (j.size() != 3 || !str(1) || !j[2].is_object())
      return malformed("COUNT must be [\"COUNT\", <subscription>, {\"count\": n}]");
    m.type = relay_message_type::count;
    m.subscription_id = *str(1);
  } else {
    m.type = relay_message_type::unknown;
  }
  if (m.subscription_id.size() > max_subscription_id)
    return malformed("subscription id longer than 64 characters");
  return m;
}

std::string client_event_message(const event& ev) {
  return "[\"EVENT\"," + to_json(ev) + "]";
}

std::string client_req_message(const std::string& subscription_id, const std::vector<std::string>& filters) {
  json out = json::array({"REQ", subscription_id});
  for (auto& f : filters) {
    auto j = json::parse(f, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      throw std::invalid_argument("a REQ filter must be a JSON object");
    out.push_back(std::move(j));
  }
  return dump(out);
}

std::string client_close_message(const std::string& subscription_id) {
  return dump(json::array({"CLOSE", subscription_id}));
}

std::string client_auth_message(const event& ev) {
  return "[\"AUTH\"," + to_json(ev) + "]";
}

std::string machine_prefix(std::string_view message) {
  auto colon = message.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return {};
  auto prefix = message.substr(0, colon);
  for (char c : prefix)
    if (!((c >= 'a' && c <= 'z') || c == '-'))
      return {};
  return std::string(prefix);
}

event auth_event(std::string_view relay_url, std::string_view challenge, int64_t now) {
  event e;
  e.kind = 22242;
  e.created_at = now;
  e.tags = {{"relay", std::string(relay_url)}, {"challenge", std::string(challenge)}};
  return e;
}

} // namespace relayhost::nostr
