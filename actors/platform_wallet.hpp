// The platform wallet's check (billing.md "Collecting", issue 13): at start, with
// NWC_URL set, the wallet is asked get_info through its NWC client; billing is
// enabled only when make_invoice and lookup_invoice are among its methods. The
// outcome is one log line ("billing enabled …" / "billing disabled: …") and the
// shared platform_wallet_state that the billing code and tenant wallet checks
// read. A wallet that did not answer (or answered without the methods) is asked
// again with backoff, and each change of the outcome is one more line, so an
// operator who fixes the wallet does not have to restart relayhost.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "actors/fwd.hpp"
#include "actors/instrumented.hpp"
#include "domain/wallet_check.hpp"

namespace relayhost {

/// Read from any thread.
class platform_wallet_state {
public:
  /// Whether the platform wallet answered get_info with the methods billing needs.
  bool enabled() const;
  /// Its network when it said one (tenant wallets must be on the same).
  std::optional<std::string> network() const;
  platform_wallet_check last() const;
  bool checked() const;
  void set(platform_wallet_check c);

private:
  mutable std::mutex m_;
  bool checked_ = false;
  platform_wallet_check check_;
};

struct platform_wallet_env {
  nwc_actor wallet;
  std::shared_ptr<platform_wallet_state> state;
  caf::timespan request_timeout = std::chrono::seconds{150};  // CAF's bound on the client's answer
  std::chrono::seconds retry_base{30};
  std::chrono::seconds retry_max{600};
};

struct platform_wallet_checker_state {
  static inline const char* name = "platform_wallet_checker";
  std::shared_ptr<const platform_wallet_env> env;
  std::chrono::seconds backoff{0};
  std::optional<bool> logged;  // the last outcome logged (enabled?)
  std::string logged_reason;
};

platform_wallet_actor::behavior_type platform_wallet_checker_impl(
  instrumented_pointer<platform_wallet_actor, platform_wallet_checker_state> self,
  std::shared_ptr<const platform_wallet_env> env);

} // namespace relayhost
