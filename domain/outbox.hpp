// The DM outbox as data and rules (billing.md "Notifications"): a notification
// row, what one publication attempt or a missing inbox list does to it, the
// recipient's inbox relays chosen from kind-10050 events (newest wins across all
// indexers), and the texts of the notices. Pure: no actors, no I/O; the notifier
// actor wires it to the relay pool and the storage actor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relayhost {

namespace nostr {
struct event;
}

enum class notification_state : uint8_t { pending, sent, undeliverable, failed };

std::string_view to_string(notification_state s) noexcept;
std::optional<notification_state> parse_notification_state(std::string_view s) noexcept;

struct notification {
  int64_t seq = 0;
  std::string id;          // 32 hex (128 random bits)
  std::string recipient;   // the tenant's hex pubkey
  std::string kind;        // what caused it: "tenant.suspended", "admin.message", …
  std::string dedupe_key;  // one cause, one notice: "tenant:<pk>:suspended:<at>", …
  std::string text;
  notification_state state = notification_state::pending;
  std::optional<std::string> wrap_json;  // the gift wrap, built once, before the first publication
  std::optional<std::string> wrap_id;
  int64_t attempts = 0;
  std::optional<int64_t> next_attempt_at;  // real clock; none once final
  std::optional<std::string> last_error;
  std::optional<std::string> relays_json;  // latest outcome per relay
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::optional<int64_t> sent_at;
};

/// A fresh notification, due now. `id` is made by the caller (random).
notification make_notification(std::string id, std::string recipient, std::string kind, std::string dedupe_key,
                               std::string text, int64_t now);

/// Timings of the outbox (seconds, real clock).
struct outbox_policy {
  int64_t retry_base = 30;       // no inbox relay accepted: first retry after this, doubling
  int64_t retry_max = 3600;      //   … up to this
  int64_t recheck_base = 3600;   // no inbox list: look again after this, doubling
  int64_t recheck_max = 86400;   //   … up to this
  int64_t give_up_after = 7 * 86400;  // after created_at: undeliverable/pending become final
};

/// base × 2^(attempts − 1), capped at `max` (attempts >= 1).
int64_t outbox_backoff(int64_t base, int64_t max, int64_t attempts) noexcept;

/// What a relay said to one publication of the wrap.
enum class publish_outcome : uint8_t { accepted, rejected, timed_out, failed };
std::string_view to_string(publish_outcome o) noexcept;

struct relay_publish_result {
  std::string relay;
  publish_outcome outcome = publish_outcome::failed;
  std::string message;  // the relay's OK message, or why there was none
};

/// Accepted, or refused as a duplicate (NIP-01 "duplicate:"): the relay holds it.
bool holds_event(const relay_publish_result& r) noexcept;

/// The row's next state and timing. `relays_json` records each relay's outcome.
struct outbox_step {
  notification_state state = notification_state::pending;
  int64_t attempts = 0;
  std::optional<int64_t> next_attempt_at;
  std::optional<std::string> last_error;
  std::optional<int64_t> sent_at;
  std::optional<std::string> relays_json;
};

/// After one publication of the wrap to the recipient's inbox relays: sent when
/// any relay holds it; else retried with backoff, or failed past give_up_after.
outbox_step after_publication(const notification& n, const std::vector<relay_publish_result>& results, int64_t now,
                              const outbox_policy& policy);

/// The recipient has no inbox list: undeliverable, looked for again with backoff
/// until give_up_after, then final (never a busy loop).
outbox_step after_no_inbox(const notification& n, int64_t now, const outbox_policy& policy);

/// Nothing could be learnt (no indexer answered, or the wrap could not be
/// stored): pending, retried with backoff like a failed publication.
outbox_step after_transient_failure(const notification& n, std::string reason, int64_t now,
                                    const outbox_policy& policy);

/// The recipient's inbox relays, from the newest authentic kind-10050 event by
/// `author` among `events` (from all indexers; newest created_at wins, on a tie
/// the lowest id, as for replaceable events). Relay tags that are not ws(s)://
/// URLs are skipped; duplicates (after normalisation) removed; at most
/// `max_relays` kept. nullopt when there is no such event; an event whose list is
/// empty gives an empty list (the recipient removed them all).
struct inbox_list {
  std::string event_id;
  int64_t created_at = 0;
  std::vector<std::string> relays;  // normalised URLs
};
std::optional<inbox_list> newest_inbox_list(const std::vector<nostr::event>& events, std::string_view author,
                                            size_t max_relays = 8);

// -- the notices' texts ----------------------------------------------------------

/// "<platform>: your account has been suspended …", with the admin's reason.
std::string suspension_notice(std::string_view platform_name, std::string_view reason);
std::string suspension_lifted_notice(std::string_view platform_name);

} // namespace relayhost
