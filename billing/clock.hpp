// The billing clock (api.md "Test clock"): the system clock, or with
// BILLING_TEST_CLOCK=1 the system clock plus an offset that admins move forward.
// It keeps running and never goes backwards: the offset only grows. Billing
// periods, grace, payment-retry spacing and invoice expiry read it; NIP-98 and
// I/O pacing read the real clock. Thread-safe (one atomic), no I/O: the offset is
// stored by whoever moves it (the admin actor, through storage).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <ctime>
#include <string>
#include <variant>

#include "core/errc.hpp"

namespace relayhost::billing {

class billing_clock {
public:
  explicit billing_clock(bool test = false, int64_t offset = 0) : test_(test), offset_(test ? offset : 0) {}

  bool test() const { return test_; }
  static int64_t real_now() { return static_cast<int64_t>(std::time(nullptr)); }
  int64_t now() const { return real_now() + offset_.load(std::memory_order_relaxed); }
  int64_t offset() const { return offset_.load(std::memory_order_relaxed); }

  /// Raises the offset to `offset` when that is higher; never lowers it. Returns
  /// the offset in force afterwards.
  int64_t raise_offset(int64_t offset) {
    int64_t cur = offset_.load();
    while (offset > cur && !offset_.compare_exchange_weak(cur, offset)) {
    }
    return std::max(cur, offset);
  }

private:
  bool test_;
  std::atomic<int64_t> offset_;
};

/// The largest single move (100 years): keeps every sum far from overflow.
inline constexpr int64_t max_clock_move_seconds = 100LL * 366 * 86400;

/// POST /admin/clock's body, exactly {"advance_seconds": N} (0 <= N) or {"now": T}
/// (T >= the billing clock's `now`), as the new offset from `real_now`; an
/// api_error (invalid-json, invalid-field naming the field) otherwise. A move back
/// is an invalid-field error: the clock never goes backwards.
std::variant<api_error, int64_t> parse_clock_move(const std::string& body, int64_t now, int64_t real_now);

} // namespace relayhost::billing
