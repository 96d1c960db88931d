// The steps of invoicing as pure rules (billing.md "Periods", "Invoice lifecycle"):
// which periods a tenant has to close now, where its schedule stands after, what
// the platform wallet is asked for, what its make_invoice answer must hold, and the
// words of the "invoice issued" notice. No actors, no I/O, no clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "billing/period.hpp"

namespace relayhost::billing {

/// The periods that have ended by `now` and are not closed yet, oldest first, at
/// most `max`. `next_close` is the end of the earliest period not closed yet (a
/// value at or before the anchor means "none closed": period 0 first).
std::vector<period> periods_to_close(int64_t anchor, int64_t next_close, int64_t now, size_t max);

/// Where the schedule stands once `last` is closed: the end of the period after it.
int64_t next_close_after(int64_t anchor, const period& last);

/// The make_invoice request of an invoice: msats = sats × 1000 (throws
/// std::overflow_error when that does not fit), the expiry, a description naming
/// the platform and the period. The params object's text.
std::string make_invoice_params(std::string_view platform_name, int64_t amount_sats, const period& p,
                                int64_t expiry_seconds);

/// What billing keeps of a make_invoice answer.
struct minted_bolt11 {
  std::string bolt11;
  std::string payment_hash;  // 64 lower-case hex
  int64_t lifetime_seconds = 0;  // expires_at − created_at of the answer, else the requested expiry
};

/// Reads make_invoice's `result`: `invoice` (a non-empty string), `payment_hash`
/// (64 hex, lower-cased), `amount` (when present it must be the msats asked for),
/// `created_at`/`expires_at` (when both are integers with expires_at > created_at,
/// they give the lifetime). nullopt with `why` when the answer cannot be trusted
/// to be the invoice asked for.
std::optional<minted_bolt11> parse_make_invoice(const std::string& result_json, int64_t requested_msats,
                                                int64_t requested_expiry, std::string* why);

/// The DM to a tenant without a wallet connection: amount, period, due date, the
/// bolt11 to pay, and where a fresh one is when it expires.
std::string invoice_issued_notice(std::string_view platform_name, int64_t amount_sats, const period& p,
                                  int64_t due_at, std::string_view bolt11);

} // namespace relayhost::billing
