#include "actors/platform_wallet.hpp"

#include <caf/all.hpp>

#include "core/log.hpp"
#include "core/metrics.hpp"

namespace relayhost {

bool platform_wallet_state::enabled() const {
  std::lock_guard<std::mutex> g(m_);
  return check_.enabled;
}

std::optional<std::string> platform_wallet_state::network() const {
  std::lock_guard<std::mutex> g(m_);
  return check_.network;
}

platform_wallet_check platform_wallet_state::last() const {
  std::lock_guard<std::mutex> g(m_);
  return check_;
}

bool platform_wallet_state::checked() const {
  std::lock_guard<std::mutex> g(m_);
  return checked_;
}

void platform_wallet_state::set(platform_wallet_check c) {
  std::lock_guard<std::mutex> g(m_);
  check_ = std::move(c);
  checked_ = true;
}

namespace {

using self_ptr = instrumented_pointer<platform_wallet_actor, platform_wallet_checker_state>;

metrics::gauge& billing_gauge() {
  static auto& g = metrics::gauge_family(
    "relayhost_billing_enabled",
    "1 when the platform wallet (NWC_URL) answered get_info with make_invoice and lookup_invoice, else 0.", {});
  return g.with({});
}

void outcome(self_ptr self, const nwc_result& r) {
  auto& st = self->state;
  auto check = check_platform_wallet(r);
  billing_gauge().set(check.enabled ? 1 : 0);
  bool changed = !st.logged || *st.logged != check.enabled || (!check.enabled && st.logged_reason != check.reason);
  if (changed) {
    if (check.enabled)
      log::info("billing enabled: the platform wallet makes and looks up invoices",
                {{"alias", check.alias}, {"network", check.network.value_or("not said")}});
    else
      log::warn("billing disabled: " + check.reason + " (relayhost serves everything else)");
    st.logged = check.enabled;
    st.logged_reason = check.reason;
  }
  bool enabled = check.enabled;
  st.env->state->set(std::move(check));
  if (enabled) {
    st.backoff = std::chrono::seconds{0};
    return;
  }
  st.backoff = st.backoff.count() == 0 ? st.env->retry_base : std::min(st.backoff * 2, st.env->retry_max);
  self->delayed_send(self, st.backoff, retry_atom::value);
}

void probe(self_ptr self) {
  self->request(self->state.env->wallet, self->state.env->request_timeout, nwc_atom::value, std::string("get_info"),
                std::string("{}"))
    .then([self](nwc_result& r) { outcome(self, r); },
          [self](caf::error& err) {
            nwc_result r;
            r.kind = nwc_result::unknown;
            r.message = "the wallet client did not answer: " + caf::to_string(err);
            outcome(self, r);
          });
}

} // namespace

platform_wallet_actor::behavior_type platform_wallet_checker_impl(self_ptr self,
                                                                  std::shared_ptr<const platform_wallet_env> env) {
  self->state.env = std::move(env);
  return {
    [self](start_atom) { probe(self); },
    [self](retry_atom) { probe(self); },
  };
}

} // namespace relayhost
