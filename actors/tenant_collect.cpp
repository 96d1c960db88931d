// Collection in the tenant actor (billing.md "Collecting", "Invoice lifecycle";
// issue 15). For each open invoice whose next step is due:
//   1. every bolt11 it ever had is looked up on the platform wallet; settled (by
//      hand, by an earlier attempt, by a late reply) → paid, and the relays that
//      delinquency switched off come back when no other invoice is past grace;
//   2. an attempt whose outcome was unknown (a timeout, a crash, kill -9) is decided
//      by those lookups only: definitely not settled → failed; unknown → it stays in
//      flight and nothing is sent;
//   3. the grace period: the 48-hour warning, then the paid active relays become
//      delinquent (free ones and ones the tenant switched off are never touched);
//   4. autopay (a wallet that checked ok, no attempt in flight, none within
//      NWC_PAY_RETRY_HOURS): the attempt is recorded and committed BEFORE pay_invoice
//      is sent; a success is proven by lookup_invoice before the invoice is paid;
//   5. when the invoice next needs this actor is stored (the scheduler's due list).
// Every step is a committed write before the next wallet request, so a crash at any
// point resumes from what the database says, and pay_invoice is never sent twice
// for a bolt11 that may have been paid.
#include <csignal>

#include <caf/all.hpp>

#include <nlohmann/json.hpp>

#include "actors/errc_caf.hpp"
#include "actors/tenant_internal.hpp"
#include "billing/collection.hpp"
#include "core/log.hpp"
#include "nostr/nwc.hpp"
#include "storage/billing_store.hpp"
#include "storage/collection_store.hpp"
#include "storage/notification_store.hpp"
#include "storage/tenant_store.hpp"

namespace relayhost::tenant_detail {

namespace {

using done_fn = std::function<void()>;
using coll_ptr = std::shared_ptr<const storage::collectible>;
using state_fn = std::function<void(billing::collect_state)>;

void fault(self_ptr self, const char* point) {
  if (!self->state.env->fault_point.empty() && self->state.env->fault_point == point) {
    log::error("fault injection: the process kills itself", {{"at", point}});
    std::raise(SIGKILL);
  }
}

billing::period period_of(const storage::collectible& c) {
  return {0, c.period_start, c.period_end};
}

bool autopay_on(self_ptr self) {
  auto& row = self->state.row;
  return row && row->billing.connected() && row->billing.nwc_status == std::optional<std::string>("ok") &&
         self->state.env->wallet_env;
}

std::string reason_of(const nwc_result& r) {
  std::string out = r.kind == nwc_result::wallet_error ? r.code : std::string(to_string(r.kind));
  if (!r.message.empty())
    out += " (" + r.message.substr(0, 200) + ")";
  return out;
}

/// lookup_invoice of hashes[i..] on the platform wallet: settled as soon as one is;
/// not_settled only when every answer was definite.
void lookup_all(self_ptr self, coll_ptr c, size_t i, bool any_unknown, std::function<void(verdict)> then) {
  auto& env = *self->state.env;
  if (i == c->hashes.size())
    return then(any_unknown ? verdict::unknown : verdict::not_settled);
  auto hash = c->hashes[i];
  self->request(env.platform_nwc, env.wallet_answer_bound, nwc_atom::value, std::string("lookup_invoice"),
                nlohmann::json{{"payment_hash", hash}}.dump())
    .then(
      [self, c, i, any_unknown, then, hash](nwc_result& r) {
        auto v = lookup_verdict(r, hash);
        if (v == verdict::settled)
          return then(verdict::settled);
        lookup_all(self, c, i + 1, any_unknown || v == verdict::unknown, then);
      },
      [self, c, i, then](caf::error&) { lookup_all(self, c, i + 1, true, then); });
}

/// The invoice is paid over Lightning: one write with its notice and, when no
/// other invoice is past grace, the relays delinquency had switched off.
void settle(self_ptr self, coll_ptr c, int64_t now, std::shared_ptr<bill_summary> sum, done_fn then) {
  auto& st = self->state;
  auto candidates = delinquent_relays(self);
  std::vector<std::string> names;
  for (auto& r : candidates)
    names.push_back(r.subdomain);
  auto dm_paid = notice(self, "invoice.paid", "invoice:" + c->id + ":paid",
                        billing::payment_received_notice(st.env->platform_name, c->amount_sats, period_of(*c)));
  auto dm_back = candidates.empty() ? std::nullopt
                                    : notice(self, "relays.reactivated", "invoice:" + c->id + ":reactivated",
                                             billing::relays_reactivated_notice(st.env->platform_name, names));
  auto paid = std::make_shared<bool>(false);
  auto still = std::make_shared<bool>(true);
  auto balance = std::make_shared<int64_t>(0);
  auto restored = std::make_shared<std::vector<relay>>();
  auto pubkey = st.pubkey;
  auto id = c->id;
  persist(self, "billing.paid",
          [id, pubkey, now, candidates, dm_paid, dm_back, paid, still, balance, restored](SQLite::Database& db) {
            *paid = storage::mark_paid(db, id, now);
            if (*paid) {
              if (dm_paid)
                storage::insert_notification(db, *dm_paid);
              restore_relays_in(db, pubkey, now, *restored, candidates);
              if (!restored->empty() && dm_back)
                storage::insert_notification(db, *dm_back);
            }
            *still = storage::tenant_delinquent(db, pubkey);
            *balance = storage::balance_due(db, pubkey);
          },
          http::responder{}, {},
          [self, id, paid, still, balance, restored, sum, then] {
            tenant t = *self->state.row;
            t.billing.delinquent = *still;
            t.billing.balance_due_sats = *balance;
            set_row(self, t);
            apply_committed_relays(self, *restored);
            if (*paid) {
              log::info("invoice paid", {{"tenant", self->state.pubkey}, {"invoice", id}});
              if (auto& cnt = self->state.env->billing)
                ++cnt->invoices_paid;
              kick_notifier(self);
              fault(self, "collect.after_paid");
            }
            then();
          });
}

/// Grace: the 48-hour warning, or at its end the paid active relays delinquent.
void grace_step(self_ptr self, coll_ptr c, billing::collect_state s, int64_t now, state_fn then) {
  auto& st = self->state;
  auto& policy = st.env->collection;
  if (!s.delinquent && now >= s.due_at) {
    std::vector<relay> victims;
    for (auto& r : st.relays) {
      auto* plan = find_plan(st.env->rules.plans, r->plan);
      if (r->status == relay_status::active && plan && plan->paid()) {
        relay after = *r;
        after.status = relay_status::delinquent;
        after.updated_at = now;
        after.sync.state = sync_state::pending;
        victims.push_back(std::move(after));
      }
    }
    std::vector<std::string> names;
    for (auto& r : victims)
      names.push_back(r.subdomain);
    auto dm = victims.empty() ? std::nullopt
                              : notice(self, "relays.delinquent", "invoice:" + c->id + ":delinquent",
                                       billing::relays_delinquent_notice(st.env->platform_name, names, c->amount_sats,
                                                                         c->bolt11));
    auto applied = std::make_shared<bool>(false);
    auto id = c->id;
    persist(self, "billing.delinquent",
            [id, now, victims, dm, applied](SQLite::Database& db) {
              *applied = storage::mark_delinquent(db, id, now);
              if (!*applied)
                return;
              for (auto& r : victims) {
                storage::update_relay(db, r);
                storage::append_activity(db, {r.id, now, r.plan, false, relay_status::delinquent});
              }
              if (dm)
                storage::insert_notification(db, *dm);
            },
            http::responder{}, {},
            [self, applied, victims, s, then, id]() mutable {
              if (*applied) {
                tenant t = *self->state.row;
                t.billing.delinquent = true;
                set_row(self, t);
                apply_committed_relays(self, victims);
                kick_notifier(self);
                log::info("grace period over: paid relays delinquent",
                          {{"tenant", self->state.pubkey}, {"invoice", id},
                           {"relays", std::to_string(victims.size())}});
              }
              s.delinquent = true;
              then(s);
            });
    return;
  }
  if (billing::grace_warning_due(policy, s, now)) {
    auto dm = notice(self, "invoice.grace_ending", "invoice:" + c->id + ":grace_ending",
                     billing::grace_ending_notice(st.env->platform_name, c->amount_sats, period_of(*c), c->due_at,
                                                  c->bolt11));
    if (dm) {
      auto wrote = std::make_shared<bool>(false);
      persist(self, "billing.grace_warning",
              [dm, wrote](SQLite::Database& db) { *wrote = storage::insert_notification(db, *dm); },
              http::responder{}, {}, [self, wrote, s, then] {
                if (*wrote)
                  kick_notifier(self);
                then(s);
              });
      return;
    }
  }
  then(s);
}

/// Records the attempt's end ("failed" with a DM naming the wallet's reason, or
/// "succeeded" awaiting proof).
void end_attempt(self_ptr self, coll_ptr c, billing::collect_state s, int64_t now, const std::string& state,
                 const std::string& reason, state_fn then) {
  auto& env = *self->state.env;
  std::optional<notification> dm;
  if (state == "failed")
    dm = notice(self, "autopay.failed", "invoice:" + c->id + ":autopay_failed:" + std::to_string(now),
                billing::autopay_failed_notice(env.platform_name, c->amount_sats, period_of(*c), reason, c->bolt11,
                                               env.collection.pay_retry_seconds / 3600));
  auto id = c->id;
  persist(self, "billing.attempt_end",
          [id, state, reason, dm](SQLite::Database& db) {
            storage::finish_attempt(db, id, state, reason);
            if (dm)
              storage::insert_notification(db, *dm);
          },
          http::responder{}, {}, [self, dm, s, then]() mutable {
            if (dm)
              kick_notifier(self);
            s.attempt_in_flight = false;
            then(s);
          });
}

/// Autopay: the attempt record first, then pay_invoice, then proof.
void autopay_step(self_ptr self, coll_ptr c, billing::collect_state s, int64_t now, std::shared_ptr<bill_summary> sum,
                  std::function<void(billing::collect_state, bool)> then) {
  auto& env = *self->state.env;
  if (!billing::may_autopay(env.collection, s, now))
    return then(s, false);
  fault(self, "collect.before_attempt");
  auto id = c->id;
  auto hash = c->payment_hash;
  persist(self, "billing.attempt",
          [id, now, hash](SQLite::Database& db) { storage::record_attempt(db, id, now, hash); }, http::responder{},
          {}, [self, c, s, now, sum, then]() mutable {
            s.attempt_in_flight = true;
            s.last_attempt_at = now;
            if (auto& cnt = self->state.env->billing)
              ++cnt->pay_attempts;
            fault(self, "collect.after_attempt");
            log::info("automatic payment sent", {{"tenant", self->state.pubkey}, {"invoice", c->id}});
            ask_tenant_wallet(
              self, "pay_invoice", nlohmann::json{{"invoice", c->bolt11}}.dump(),
              [self, c, s, now, sum, then](const nwc_result& r) {
                if (r.kind == nwc_result::unknown) {
                  // It may have been paid: only lookup_invoice decides, later.
                  log::warn("automatic payment outcome unknown; the platform wallet will tell",
                            {{"tenant", self->state.pubkey}, {"invoice", c->id}, {"reason", reason_of(r)}});
                  return then(s, false);
                }
                if (r.kind != nwc_result::ok) {
                  log::warn("automatic payment failed", {{"tenant", self->state.pubkey}, {"invoice", c->id},
                                                         {"reason", reason_of(r)}});
                  if (auto& cnt = self->state.env->billing)
                    ++cnt->pay_failures;
                  return end_attempt(self, c, s, now, "failed", reason_of(r),
                                     [then](billing::collect_state s2) { then(s2, false); });
                }
                // The tenant's wallet says paid: the platform wallet must prove it.
                lookup_all(self, c, 0, false, [self, c, s, now, sum, then](verdict v) {
                  if (v == verdict::settled)
                    return settle(self, c, now, sum, [then, s] { then(s, true); });
                  end_attempt(self, c, s, now, "succeeded", "",
                              [then](billing::collect_state s2) { then(s2, false); });
                });
              });
          });
}

void schedule(self_ptr self, coll_ptr c, billing::collect_state s, int64_t now, done_fn then) {
  auto at = billing::next_action(self->state.env->collection, s, now);
  auto id = c->id;
  auto checks = s.checks;
  persist(self, "billing.next_action", [id, at, checks](SQLite::Database& db) { storage::set_next_action(db, id, at, checks); },
          http::responder{}, {}, [then] { then(); });
}

void collect_one(self_ptr self, coll_ptr c, int64_t now, std::shared_ptr<bill_summary> sum, done_fn done) {
  auto& st = self->state;
  if (!st.collecting.insert(c->id).second)
    return done();
  done_fn finish = [self, id = c->id, done] {
    self->state.collecting.erase(id);
    done();
  };
  billing::collect_state s;
  s.due_at = c->due_at;
  s.delinquent = c->delinquent_at.has_value();
  s.autopay = autopay_on(self);
  s.attempt_in_flight = c->attempt_state == "in_flight";
  s.last_attempt_at = c->attempt_at.value_or(-1);
  s.checks = c->checks;
  lookup_all(self, c, 0, false, [self, c, s, now, sum, finish](verdict v) mutable {
    ++s.checks;
    if (auto& cnt = self->state.env->billing)
      ++cnt->lookups;
    if (v == verdict::settled)
      return settle(self, c, now, sum, finish);
    auto rest = [self, c, now, sum, finish](billing::collect_state s1) {
      grace_step(self, c, s1, now, [self, c, now, sum, finish](billing::collect_state s2) {
        autopay_step(self, c, s2, now, sum, [self, c, now, finish](billing::collect_state s3, bool paid) {
          if (paid)
            return finish();
          schedule(self, c, s3, now, finish);
        });
      });
    };
    if (s.attempt_in_flight && v == verdict::not_settled)
      return end_attempt(self, c, s, now, "failed", "no payment arrived (the platform wallet says not settled)", rest);
    rest(s);
  });
}

} // namespace

verdict lookup_verdict(const nwc_result& r, const std::string& hash) {
  if (r.kind == nwc_result::ok)
    return nostr::normalize_lookup(r.result_json, hash).status == nostr::invoice_status::settled ? verdict::settled
                                                                                                  : verdict::not_settled;
  return r.kind == nwc_result::wallet_error && r.code == "NOT_FOUND" ? verdict::not_settled : verdict::unknown;
}

std::vector<relay> delinquent_relays(self_ptr self) {
  std::vector<relay> out;
  for (auto& r : self->state.relays)
    if (r->status == relay_status::delinquent)
      out.push_back(*r);
  return out;
}

void restore_relays_in(SQLite::Database& db, const std::string& tenant, int64_t now, std::vector<relay>& restored,
                       const std::vector<relay>& candidates) {
  if (candidates.empty() || storage::tenant_delinquent(db, tenant))
    return;
  for (auto r : candidates) {
    r.status = relay_status::active;
    r.updated_at = now;
    r.sync.state = sync_state::pending;
    storage::update_relay(db, r);
    storage::append_activity(db, {r.id, now, r.plan, true, relay_status::active});
    restored.push_back(std::move(r));
  }
}

void apply_committed_relays(self_ptr self, const std::vector<relay>& changed) {
  if (changed.empty()) {
    show(self);
    return;
  }
  for (auto& r : changed)
    replace_relay(self, r);
  show(self);
  for (auto& r : changed)
    sync_to_zooid(self, r);
}

void collect(self_ptr self, int64_t now, std::shared_ptr<bill_summary> sum, done_fn done, bool all) {
  auto& env = *self->state.env;
  if (!env.platform_nwc || !env.platform_wallet || !env.platform_wallet->enabled())
    return done();
  auto todo = std::make_shared<std::vector<storage::collectible>>();
  auto pubkey = self->state.pubkey;
  self->request(env.storage, env.storage_timeout, read_atom::value,
                storage_read{"billing.collectible",
                             [todo, pubkey, now, all](SQLite::Database& db) {
                               *todo = storage::collectible_invoices(db, pubkey, now, all);
                             }})
    .then(
      [self, todo, now, sum, done](bool) {
        if (todo->empty())
          return done();
        auto pending = std::make_shared<size_t>(todo->size());
        auto one_done = [pending, done] {
          if (--*pending == 0)
            done();
        };
        for (auto& c : *todo)
          collect_one(self, std::make_shared<const storage::collectible>(c), now, sum, one_done);
      },
      [done](caf::error&) { done(); });
}

} // namespace relayhost::tenant_detail
