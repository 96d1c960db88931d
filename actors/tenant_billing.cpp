// Invoicing in the tenant actor, the one writer of its tenant (billing.md "Periods
// and the amount due", "Invoice lifecycle", issue 14). A bill step:
//   1. closes every period that has ended (at most max_periods_per_bill): the
//      amounts are prorated from the relay activity log, and the invoices (one per
//      period that cost something) and the schedule's next close are ONE
//      transaction; UNIQUE (tenant, period_start) makes a second invoice impossible;
//   2. asks the platform wallet make_invoice for each open invoice without a
//      bolt11 (or whose bolt11 has expired, on the billing clock). The invoice row
//      was committed before; a wallet that fails or times out leaves it open
//      without a bolt11, and the scheduler asks again later. The bolt11, its hash
//      and the "invoice issued" notice (tenants without a wallet connection) are
//      one transaction, the notice's dedupe key `invoice:<id>:issued`.
#include <caf/all.hpp>

#include <nlohmann/json.hpp>

#include "actors/errc_caf.hpp"
#include "actors/tenant_internal.hpp"
#include "billing/collection.hpp"
#include "billing/invoicing.hpp"
#include "billing/proration.hpp"
#include "core/log.hpp"
#include "domain/relay_rules.hpp"
#include "storage/billing_store.hpp"
#include "storage/collection_store.hpp"
#include "storage/notification_store.hpp"
#include "storage/tenant_store.hpp"

namespace relayhost::tenant_detail {

namespace {

using done_fn = std::function<void()>;

api_response summary_response(const bill_summary& s) {
  return ok_json(200, json{{"periods_closed", s.periods_closed},
                           {"invoices_created", s.invoices_created},
                           {"bolt11_issued", s.bolt11_issued},
                           {"wallet_errors", s.wallet_errors}});
}

void count_wallet_error(self_ptr self, const std::shared_ptr<bill_summary>& sum) {
  ++sum->wallet_errors;
  if (auto& c = self->state.env->billing)
    ++c->wallet_errors;
}

/// The wallet's answer for one invoice: store the bolt11 (and the notice).
void on_minted(self_ptr self, const storage::invoice_to_mint& inv, const nwc_result& r,
               std::shared_ptr<bill_summary> sum, done_fn done) {
  auto& st = self->state;
  st.minting.erase(inv.id);
  auto expiry = st.env->invoice_expiry_seconds;
  std::string why;
  std::optional<billing::minted_bolt11> m;
  if (r.kind == nwc_result::ok)
    m = billing::parse_make_invoice(r.result_json, inv.amount_sats * 1000, expiry, &why);
  else
    why = std::string(to_string(r.kind)) + (r.code.empty() ? "" : " " + r.code) +
          (r.message.empty() ? "" : ": " + r.message);
  if (!m) {
    log::warn("make_invoice failed; the invoice stays open without a bolt11 and is asked for again",
              {{"tenant", st.pubkey}, {"invoice", inv.id}, {"reason", why}});
    count_wallet_error(self, sum);
    done();
    return;
  }
  auto issued = st.env->now();
  auto expires = issued + m->lifetime_seconds;
  billing::period p{0, inv.period_start, inv.period_end};
  // Tenants who pay by hand are told (also those whose wallet did not check ok: it
  // will not pay); a wallet connection that checked ok pays automatically.
  bool autopay = st.row && st.row->billing.connected() && st.row->billing.nwc_status == std::optional<std::string>("ok");
  std::optional<notification> dm;
  if (inv.first && st.row && !autopay)
    dm = notice(self, "invoice.issued", "invoice:" + inv.id + ":issued",
                billing::invoice_issued_notice(st.env->platform_name, inv.amount_sats, p, inv.due_at, m->bolt11));
  auto stored = std::make_shared<bool>(false);
  auto id = inv.id;
  bool renewal = !inv.first;
  // Collection looks at it next: at once when a wallet pays it, else at the first check.
  auto next = issued + (autopay ? 0 : st.env->collection.check_base_seconds);
  persist(self, "billing.bolt11",
          [id, m = *m, issued, expires, dm, stored, next](SQLite::Database& db) {
            *stored = storage::store_bolt11(db, id, m.bolt11, m.payment_hash, issued, expires);
            if (*stored)
              storage::set_next_action(db, id, next, 0);
            if (*stored && dm)
              storage::insert_notification(db, *dm);
          },
          http::responder{}, {},
          [self, stored, dm, sum, done, renewal] {
            if (*stored) {
              ++sum->bolt11_issued;
              if (auto& c = self->state.env->billing)
                ++(renewal ? c->bolt11_renewed : c->bolt11_issued);
              if (dm)
                kick_notifier(self);
            }
            done();
          });
}

/// Step 2: a bolt11 for every open invoice that needs one.
void mint(self_ptr self, int64_t now, std::shared_ptr<bill_summary> sum, done_fn finish) {
  auto& env = *self->state.env;
  if (!env.platform_nwc || !env.platform_wallet || !env.platform_wallet->enabled())
    return finish();
  auto todo = std::make_shared<std::vector<storage::invoice_to_mint>>();
  auto pubkey = self->state.pubkey;
  self->request(env.storage, env.storage_timeout, read_atom::value,
                storage_read{"billing.to_mint",
                             [todo, pubkey, now](SQLite::Database& db) {
                               *todo = storage::invoices_to_mint(db, pubkey, now);
                             }})
    .then(
      [self, todo, sum, finish, now](bool) {
        auto& st = self->state;
        auto pending = std::make_shared<size_t>(0);
        std::vector<storage::invoice_to_mint> asked;
        for (auto& inv : *todo)
          if (st.minting.insert(inv.id).second)
            asked.push_back(inv);
        if (asked.empty())
          return finish();
        *pending = asked.size();
        auto one_done = [pending, finish] {
          if (--*pending == 0)
            finish();
        };
        for (auto& inv : asked) {
          std::string params;
          try {
            params = billing::make_invoice_params(st.env->platform_name, inv.amount_sats,
                                                  billing::period{0, inv.period_start, inv.period_end},
                                                  st.env->invoice_expiry_seconds);
          } catch (const std::exception& ex) {
            log::error("an invoice cannot be asked for", {{"invoice", inv.id}, {"error", ex.what()}});
            st.minting.erase(inv.id);
            count_wallet_error(self, sum);
            one_done();
            continue;
          }
          auto make = [self, inv, sum, one_done, params] {
            self->request(self->state.env->platform_nwc, self->state.env->wallet_answer_bound, nwc_atom::value,
                          std::string("make_invoice"), params)
              .then([self, inv, sum, one_done](nwc_result& r) { on_minted(self, inv, r, sum, one_done); },
                    [self, inv, sum, one_done](caf::error& err) {
                      nwc_result r;
                      r.kind = nwc_result::unknown;
                      r.message = "the wallet client did not answer: " + caf::to_string(err);
                      on_minted(self, inv, r, sum, one_done);
                    });
          };
          if (inv.first || inv.payment_hash.empty()) {
            make();
            continue;
          }
          // A renewal replaces a bolt11 only once the wallet says it was not paid: one
          // paid just before it expired, not yet seen by the (hourly) lookups, would
          // otherwise show the tenant a new bolt11 to pay for what is already paid.
          self->request(st.env->platform_nwc, st.env->wallet_answer_bound, nwc_atom::value,
                        std::string("lookup_invoice"), nlohmann::json{{"payment_hash", inv.payment_hash}}.dump())
            .then(
              [self, inv, sum, one_done, make, now](nwc_result& r) {
                auto v = lookup_verdict(r, inv.payment_hash);
                if (v == verdict::settled) {
                  // Paid: collection's lookups (this very pass) credit it.
                  self->state.minting.erase(inv.id);
                  auto id = inv.id;
                  persist(self, "billing.collect_now", [id, now](SQLite::Database& db) { storage::collect_now(db, id, now); },
                          http::responder{}, {}, one_done);
                  return;
                }
                if (v == verdict::not_settled)
                  return make();
                self->state.minting.erase(inv.id);
                log::warn("the expired bolt11 could not be looked up; it is renewed once the wallet answers",
                          {{"tenant", self->state.pubkey}, {"invoice", inv.id}});
                count_wallet_error(self, sum);
                one_done();
              },
              [self, inv, sum, one_done](caf::error&) {
                self->state.minting.erase(inv.id);
                count_wallet_error(self, sum);
                one_done();
              });
        }
      },
      [finish](caf::error&) { finish(); });
}

/// Step 1 with the activity log read: the invoices and the schedule, one write.
void close_periods(self_ptr self, int64_t now, const std::vector<billing::period>& periods,
                   const std::map<std::string, std::vector<relay_activity>>& logs, std::shared_ptr<bill_summary> sum,
                   done_fn finish) {
  auto& st = self->state;
  std::map<std::string, std::string> subdomains;
  for (auto& r : st.relays)
    subdomains[r->id] = r->subdomain;
  std::vector<storage::new_invoice> invoices;
  for (auto& p : periods) {
    auto draft = billing::bill_period(logs, p, st.env->rules.plans);  // throws for a plan not in PLANS
    if (draft.total_sats <= 0)
      continue;
    storage::new_invoice inv;
    inv.id = new_id();
    inv.tenant = st.pubkey;
    inv.period_start = p.start;
    inv.period_end = p.end;
    inv.created_at = now;
    inv.due_at = now + st.env->grace_seconds;
    inv.amount_sats = draft.total_sats;
    inv.items = std::move(draft.items);
    inv.subdomains = subdomains;
    invoices.push_back(std::move(inv));
  }
  auto next = billing::next_close_after(*st.row->billing.anchor, periods.back());
  auto created = std::make_shared<int64_t>(0);
  auto balance = std::make_shared<int64_t>(0);
  auto pubkey = st.pubkey;
  auto closed = static_cast<int64_t>(periods.size());
  persist(self, "billing.close",
          [invoices, pubkey, next, created, balance](SQLite::Database& db) {
            for (auto& inv : invoices)
              if (storage::insert_invoice(db, inv))
                ++*created;
            storage::set_next_close(db, pubkey, next);
            *balance = storage::balance_due(db, pubkey);
          },
          http::responder{}, {},
          [self, now, next, created, balance, closed, sum, finish] {
            tenant t = *self->state.row;
            t.billing.next_close = next;
            t.billing.balance_due_sats = *balance;
            set_row(self, t);
            show(self);
            sum->periods_closed += closed;
            sum->invoices_created += *created;
            if (auto& c = self->state.env->billing) {
              c->periods_closed += static_cast<uint64_t>(closed);
              c->invoices_created += static_cast<uint64_t>(*created);
            }
            if (*created > 0)
              log::info("invoices created", {{"tenant", self->state.pubkey}, {"count", std::to_string(*created)},
                                             {"balance_due_sats", std::to_string(*balance)}});
            mint(self, now, sum, finish);
          });
}

} // namespace

namespace {

/// One bill step: close, mint, collect (all open invoices with `collect_all`).
void run_bill(self_ptr self, bool collect_all, std::shared_ptr<bill_summary> sum, done_fn finish) {
  auto& st = self->state;
  if (!st.row || !st.row->billing.anchor)
    return finish();
  auto now = st.env->now();
  done_fn after_mint = [self, now, sum, finish, collect_all] { collect(self, now, sum, finish, collect_all); };
  auto anchor = *st.row->billing.anchor;
  auto periods =
    billing::periods_to_close(anchor, st.row->billing.next_close.value_or(anchor), now, st.env->max_periods_per_bill);
  if (periods.empty())
    return mint(self, now, sum, after_mint);
  auto logs = std::make_shared<std::map<std::string, std::vector<relay_activity>>>();
  auto pubkey = st.pubkey;
  auto before = periods.back().end;
  // Held (await): nothing of this tenant changes between the read and the write.
  self->request(st.env->storage, st.env->storage_timeout, read_atom::value,
                storage_read{"billing.activity",
                             [logs, pubkey, before](SQLite::Database& db) {
                               *logs = storage::load_tenant_activity(db, pubkey, before);
                             }})
    .await(
      [self, now, periods, logs, sum, after_mint](bool) {
        try {
          close_periods(self, now, periods, *logs, sum, after_mint);
        } catch (const std::exception& ex) {
          log::error("a period cannot be billed", {{"tenant", self->state.pubkey}, {"error", ex.what()}});
          after_mint();
        }
      },
      [self, finish](caf::error& err) {
        log::warn("billing read failed; the next pass tries again",
                  {{"tenant", self->state.pubkey}, {"error", caf::to_string(err)}});
        finish();
      });
}

} // namespace

void bill(self_ptr self, tenant_call& call) {
  auto sum = std::make_shared<bill_summary>();
  sum->answered = true;
  run_bill(self, false, sum, [sum, respond = call.respond] { respond(summary_response(*sum)); });
}

void bill_now(self_ptr self) {
  run_bill(self, true, std::make_shared<bill_summary>(), [] {});
}

/// PUT /admin/invoices/:id {"status": "void"|"paid", "reason": "…"}: only from
/// open (else 409 naming the status); audited with the invoice before and after,
/// in the same transaction; answers the invoice.
void admin_set_invoice(self_ptr self, tenant_call& call) {
  auto parsed = parse_body(call, {"status", "reason"});
  if (!parsed)
    return;
  auto& body = *parsed;
  auto s = body.find("status");
  if (s == body.end() || !s->is_string() || (*s != "void" && *s != "paid")) {
    call.respond(error_response(api_error::invalid_field("status", "status must be void or paid")));
    return;
  }
  auto r = body.find("reason");
  auto len = r != body.end() && r->is_string() ? utf8_length(r->get_ref<const std::string&>()) : std::nullopt;
  if (!len || *len < 1 || *len > 500) {
    call.respond(error_response(api_error::invalid_field("reason", "reason is required: 1-500 characters")));
    return;
  }
  if (!self->state.row) {
    call.respond(error_response({errc::not_found, "no such invoice", {}}));
    return;
  }
  auto status = s->get<std::string>();
  auto reason = r->get<std::string>();
  auto id = call.relay_id;
  auto pubkey = self->state.pubkey;
  auto audit = make_audit(self, call, "invoice." + status, "invoice", id, reason, "{}");
  auto now = self->state.env->now();
  auto out = std::make_shared<json>();
  auto balance = std::make_shared<int64_t>(0);
  auto still = std::make_shared<bool>(true);
  // paid counts as a payment, and a written-off invoice is owed no more: either way
  // the relays delinquency switched off come back once no open invoice is past grace.
  auto candidates = delinquent_relays(self);
  auto restored = std::make_shared<std::vector<relay>>();
  std::vector<std::string> names;
  for (auto& r : candidates)
    names.push_back(r.subdomain);
  auto dm_back = candidates.empty() ? std::nullopt
                                    : notice(self, "relays.reactivated", "invoice:" + id + ":reactivated",
                                             billing::relays_reactivated_notice(self->state.env->platform_name, names));
  persist(self, "invoice.admin_status",
          [pubkey, id, status, reason, now, audit, out, balance, still, candidates, restored,
           dm_back](SQLite::Database& db) mutable {
            auto before = storage::find_invoice(db, id);
            storage::set_invoice_status_by_admin(db, pubkey, id, status, reason, now);
            restore_relays_in(db, pubkey, now, *restored, candidates);
            if (!restored->empty() && dm_back)
              storage::insert_notification(db, *dm_back);
            *out = *storage::find_invoice(db, id);
            audit.before_json = before ? before->dump() : "{}";
            audit.after_json = out->dump();
            storage::append_audit(db, audit);
            *balance = storage::balance_due(db, pubkey);
            *still = storage::tenant_delinquent(db, pubkey);
          },
          call.respond, {},
          [self, out, balance, still, restored, dm_back, respond = call.respond] {
            tenant t = *self->state.row;
            t.billing.balance_due_sats = *balance;
            t.billing.delinquent = *still;
            set_row(self, t);
            apply_committed_relays(self, *restored);
            if (!restored->empty() && dm_back)
              kick_notifier(self);
            respond(ok_json(200, *out));
          });
}

} // namespace relayhost::tenant_detail
