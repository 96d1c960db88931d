// Collecting an open invoice as pure rules (billing.md "Collecting", "Invoice
// lifecycle", "Notifications"; issue 15). The tenant actor reads an invoice's state,
// asks these rules what may happen now, does it (each step durable before the next
// wallet request), and stores when the invoice next needs it. No actors, no I/O,
// no clock: every time is passed in (billing clock, unix seconds).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "billing/period.hpp"

namespace relayhost::billing {

struct collection_policy {
  int64_t check_base_seconds = 60;    // PAYMENT_CHECK_SECONDS: the first out-of-band check
  int64_t check_max_seconds = 3600;   // the spacing doubles up to this
  int64_t pay_retry_seconds = 86400;  // NWC_PAY_RETRY_HOURS × 3600: at most one attempt per this
  int64_t warn_before_seconds = 48 * 3600;  // "grace period ends in 48 h"
};

/// The wait before out-of-band check number `checks` (0: the first).
int64_t check_wait(const collection_policy& p, int64_t checks);

/// What collection knows of one invoice.
struct collect_state {
  int64_t due_at = 0;
  bool delinquent = false;        // its grace period's end has been applied
  bool autopay = false;           // the tenant has a wallet connection that checked ok
  bool attempt_in_flight = false; // an attempt record whose outcome is not known
  int64_t last_attempt_at = -1;   // -1: never attempted
  int64_t checks = 0;
};

/// Whether an automatic payment may be sent now: a wallet, no attempt in flight
/// (one whose outcome is unknown must first be resolved by lookup_invoice), and
/// none within the retry spacing.
bool may_autopay(const collection_policy& p, const collect_state& s, int64_t now);

/// When the invoice next needs its tenant's actor, after a step at `now` that did
/// `checks` out-of-band checks so far: the next check, the end of grace (if not
/// applied), the 48-hour warning, the next automatic attempt — whichever is first.
int64_t next_action(const collection_policy& p, const collect_state& s, int64_t now);

/// Whether the 48-hour warning is due now (and grace has not ended).
bool grace_warning_due(const collection_policy& p, const collect_state& s, int64_t now);

// -- the notices' words (the platform's name first, as every notice) ----------------

std::string payment_received_notice(std::string_view platform, int64_t amount_sats, const period& p);
/// The wallet's reason, what to do, the bolt11 to pay by hand, when the next attempt is.
std::string autopay_failed_notice(std::string_view platform, int64_t amount_sats, const period& p,
                                  std::string_view reason, std::string_view bolt11, int64_t retry_hours);
std::string grace_ending_notice(std::string_view platform, int64_t amount_sats, const period& p, int64_t due_at,
                                std::string_view bolt11);
std::string relays_delinquent_notice(std::string_view platform, const std::vector<std::string>& subdomains,
                                     int64_t amount_sats, std::string_view bolt11);
std::string relays_reactivated_notice(std::string_view platform, const std::vector<std::string>& subdomains);

} // namespace relayhost::billing
