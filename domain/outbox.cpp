#include "domain/outbox.hpp"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "nostr/event.hpp"
#include "nostr/relay_url.hpp"

namespace relayhost {

namespace {

constexpr int inbox_list_kind = 10050;

std::string relays_json_of(const std::vector<relay_publish_result>& results) {
  auto arr = nlohmann::json::array();
  for (auto& r : results)
    arr.push_back({{"relay", r.relay}, {"outcome", std::string(to_string(r.outcome))}, {"message", r.message}});
  return arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace

std::string_view to_string(notification_state s) noexcept {
  switch (s) {
    case notification_state::pending: return "pending";
    case notification_state::sent: return "sent";
    case notification_state::undeliverable: return "undeliverable";
    case notification_state::failed: return "failed";
  }
  return "pending";
}

std::optional<notification_state> parse_notification_state(std::string_view s) noexcept {
  for (auto st : {notification_state::pending, notification_state::sent, notification_state::undeliverable,
                  notification_state::failed})
    if (to_string(st) == s)
      return st;
  return std::nullopt;
}

std::string_view to_string(publish_outcome o) noexcept {
  switch (o) {
    case publish_outcome::accepted: return "accepted";
    case publish_outcome::rejected: return "rejected";
    case publish_outcome::timed_out: return "timed_out";
    case publish_outcome::failed: return "failed";
  }
  return "failed";
}

notification make_notification(std::string id, std::string recipient, std::string kind, std::string dedupe_key,
                               std::string text, int64_t now) {
  notification n;
  n.id = std::move(id);
  n.recipient = std::move(recipient);
  n.kind = std::move(kind);
  n.dedupe_key = std::move(dedupe_key);
  n.text = std::move(text);
  n.next_attempt_at = now;
  n.created_at = n.updated_at = now;
  return n;
}

int64_t outbox_backoff(int64_t base, int64_t max, int64_t attempts) noexcept {
  int64_t delay = std::max<int64_t>(base, 1);
  for (int64_t i = 1; i < attempts && delay < max; ++i)
    delay *= 2;
  return std::min(delay, max);
}

bool holds_event(const relay_publish_result& r) noexcept {
  if (r.outcome == publish_outcome::accepted)
    return true;
  return r.outcome == publish_outcome::rejected && r.message.rfind("duplicate:", 0) == 0;
}

outbox_step after_publication(const notification& n, const std::vector<relay_publish_result>& results, int64_t now,
                              const outbox_policy& policy) {
  outbox_step s;
  s.attempts = n.attempts + 1;
  s.relays_json = relays_json_of(results);
  if (std::any_of(results.begin(), results.end(), holds_event)) {
    s.state = notification_state::sent;
    s.sent_at = now;
    return s;
  }
  std::string why = results.empty() ? "no inbox relay" : "no inbox relay accepted it";
  for (auto& r : results)
    if (!r.message.empty()) {
      why += " (" + r.relay + ": " + r.message + ")";
      break;
    }
  s.last_error = why;
  auto next = now + outbox_backoff(policy.retry_base, policy.retry_max, s.attempts);
  if (next > n.created_at + policy.give_up_after) {
    s.state = notification_state::failed;
    return s;
  }
  s.state = notification_state::pending;
  s.next_attempt_at = next;
  return s;
}

outbox_step after_no_inbox(const notification& n, int64_t now, const outbox_policy& policy) {
  outbox_step s;
  s.attempts = n.attempts + 1;
  s.state = notification_state::undeliverable;
  s.last_error = "the recipient has no kind-10050 inbox relay list";
  s.relays_json = n.relays_json;
  auto next = now + outbox_backoff(policy.recheck_base, policy.recheck_max, s.attempts);
  if (next <= n.created_at + policy.give_up_after)
    s.next_attempt_at = next;  // else final: undeliverable, never looked at again
  return s;
}

outbox_step after_transient_failure(const notification& n, std::string reason, int64_t now,
                                    const outbox_policy& policy) {
  outbox_step s;
  s.attempts = n.attempts + 1;
  s.last_error = std::move(reason);
  s.relays_json = n.relays_json;
  auto next = now + outbox_backoff(policy.retry_base, policy.retry_max, s.attempts);
  if (next > n.created_at + policy.give_up_after) {
    s.state = notification_state::failed;
    return s;
  }
  s.state = n.state == notification_state::undeliverable ? notification_state::undeliverable
                                                         : notification_state::pending;
  s.next_attempt_at = next;
  return s;
}

std::optional<inbox_list> newest_inbox_list(const std::vector<nostr::event>& events, std::string_view author,
                                            size_t max_relays) {
  const nostr::event* best = nullptr;
  for (auto& ev : events) {
    if (ev.kind != inbox_list_kind || ev.pubkey != author || !nostr::verify_event(ev))
      continue;
    if (!best || ev.created_at > best->created_at || (ev.created_at == best->created_at && ev.id < best->id))
      best = &ev;
  }
  if (!best)
    return std::nullopt;
  inbox_list out;
  out.event_id = best->id;
  out.created_at = best->created_at;
  std::set<std::string> seen;
  for (auto& tag : best->tags) {
    if (out.relays.size() >= max_relays)
      break;
    if (tag.size() < 2 || tag[0] != "relay")
      continue;
    auto url = nostr::parse_relay_url(tag[1]);
    if (url && seen.insert(url->normalized).second)
      out.relays.push_back(url->normalized);
  }
  return out;
}

std::string suspension_notice(std::string_view platform_name, std::string_view reason) {
  std::string out(platform_name.empty() ? "relayhost" : platform_name);
  out += ": your account has been suspended by an administrator. Your relays are switched off until the "
         "suspension is lifted. Reason: ";
  out += reason;
  return out;
}

std::string suspension_lifted_notice(std::string_view platform_name) {
  std::string out(platform_name.empty() ? "relayhost" : platform_name);
  out += ": the suspension of your account has been lifted. The relays it switched off are active again.";
  return out;
}

} // namespace relayhost
