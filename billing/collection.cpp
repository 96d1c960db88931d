#include "billing/collection.hpp"

#include <algorithm>

namespace relayhost::billing {

int64_t check_wait(const collection_policy& p, int64_t checks) {
  int64_t wait = std::max<int64_t>(1, p.check_base_seconds);
  for (int64_t i = 0; i < checks && wait < p.check_max_seconds; ++i)
    wait *= 2;
  return std::min(wait, std::max<int64_t>(p.check_max_seconds, p.check_base_seconds));
}

bool may_autopay(const collection_policy& p, const collect_state& s, int64_t now) {
  if (!s.autopay || s.attempt_in_flight)
    return false;
  return s.last_attempt_at < 0 || now >= s.last_attempt_at + p.pay_retry_seconds;
}

bool grace_warning_due(const collection_policy& p, const collect_state& s, int64_t now) {
  return !s.delinquent && now >= s.due_at - p.warn_before_seconds && now < s.due_at;
}

int64_t next_action(const collection_policy& p, const collect_state& s, int64_t now) {
  int64_t next = now + check_wait(p, s.checks);
  auto consider = [&](int64_t t) {
    if (t > now)
      next = std::min(next, t);
  };
  if (!s.delinquent) {
    consider(s.due_at);
    consider(s.due_at - p.warn_before_seconds);
  }
  if (s.autopay && !s.attempt_in_flight)
    consider(s.last_attempt_at < 0 ? now + 1 : s.last_attempt_at + p.pay_retry_seconds);
  return next;
}

namespace {
std::string name(std::string_view platform) {
  return std::string(platform.empty() ? "relayhost" : platform);
}
std::string list(const std::vector<std::string>& xs) {
  std::string out;
  for (size_t i = 0; i < xs.size(); ++i)
    out += (i ? ", " : "") + xs[i];
  return out;
}
} // namespace

std::string payment_received_notice(std::string_view platform, int64_t amount_sats, const period& p) {
  return name(platform) + ": payment received, thank you. " + std::to_string(amount_sats) +
         " sats for relay hosting from " + period_label(p) + ".";
}

std::string autopay_failed_notice(std::string_view platform, int64_t amount_sats, const period& p,
                                  std::string_view reason, std::string_view bolt11, int64_t retry_hours) {
  return name(platform) + ": the automatic payment of " + std::to_string(amount_sats) + " sats for relay hosting from " +
         period_label(p) + " failed. Your wallet said: " + std::string(reason) +
         ". Top up or fix the wallet connection (PUT /tenant/billing saves a new one and pays at once), or pay "
         "this Lightning invoice by hand:\n\n" +
         std::string(bolt11) + "\n\nThe next automatic attempt is in " + std::to_string(retry_hours) + " h.";
}

std::string grace_ending_notice(std::string_view platform, int64_t amount_sats, const period& p, int64_t due_at,
                                std::string_view bolt11) {
  return name(platform) + ": your invoice of " + std::to_string(amount_sats) + " sats for relay hosting from " +
         period_label(p) + " is still open. Its grace period ends on " + iso_date(due_at) +
         " (in 48 hours); then your paid relays are switched off until it is paid. Pay this Lightning invoice:\n\n" +
         std::string(bolt11);
}

std::string relays_delinquent_notice(std::string_view platform, const std::vector<std::string>& subdomains,
                                     int64_t amount_sats, std::string_view bolt11) {
  return name(platform) + ": your invoice of " + std::to_string(amount_sats) +
         " sats is past its grace period, so these relays are switched off until it is paid: " + list(subdomains) +
         ". Free relays keep running. Paying brings them back at once:\n\n" + std::string(bolt11);
}

std::string relays_reactivated_notice(std::string_view platform, const std::vector<std::string>& subdomains) {
  return name(platform) + ": thank you, your relays are running again: " + list(subdomains) + ".";
}

} // namespace relayhost::billing
