#include "actors/tenant_actor.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <ctime>

#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include "actors/errc_caf.hpp"
#include "actors/tenant_internal.hpp"
#include "billing/period.hpp"
#include "core/log.hpp"
#include "domain/outbox.hpp"
#include "domain/page.hpp"
#include "domain/relay_rules.hpp"
#include "domain/views.hpp"
#include "nostr/hex.hpp"
#include "nostr/keys.hpp"
#include "nostr/nwc_uri.hpp"
#include "storage/invoice_store.hpp"
#include "storage/notification_store.hpp"
#include "storage/tenant_store.hpp"

namespace relayhost {

namespace tenant_detail {

constexpr size_t relay_id_bytes = 16;
constexpr size_t admin_message_min_chars = 1;
constexpr size_t admin_message_max_chars = 2000;

std::string new_id() {
  uint8_t raw[relay_id_bytes];
  if (RAND_bytes(raw, sizeof raw) != 1)
    throw std::runtime_error("no randomness for a relay id");
  return nostr::to_hex(raw, sizeof raw);
}

/// A notice to the tenant, to be written with the change that causes it; nullopt
/// when notifications are disabled.
std::optional<notification> notice(self_ptr self, std::string kind, std::string dedupe_key, std::string text) {
  if (!self->state.env->notifier)
    return std::nullopt;
  return make_notification(new_id(), self->state.pubkey, std::move(kind), std::move(dedupe_key),
                           std::move(text), real_now(self));
}

/// After the commit that wrote a notice: the notifier delivers it now.
void kick_notifier(self_ptr self) {
  if (self->state.env->notifier)
    self->send(self->state.env->notifier, notify_atom::value);
}

api_response ok_json(int status, const json& j) {
  return api_response::json(status, j.dump(-1, ' ', false, json::error_handler_t::replace));
}

// -- the published view: reads answer from it, here and on the io threads ----------

/// Publishes the committed state: a new view sharing the row and relays.
/// Called after every change of `row` or `relays`, before the reply.
void show(self_ptr self) {
  auto v = std::make_shared<tenant_view>();
  v->row = self->state.row;
  v->relays = self->state.relays;
  self->state.view = v;
  if (auto& board = self->state.env->views)
    board->publish(self->state.pubkey, self->id(), std::move(v));
}

void set_row(self_ptr self, const tenant& t) {
  self->state.row = std::make_shared<const tenant>(t);
}

void replace_relay(self_ptr self, const relay& after) {
  for (auto& r : self->state.relays)
    if (r->id == after.id) {
      r = std::make_shared<const relay>(after);
      return;
    }
}

api_response relay_response(self_ptr self, int status, const relay& r) {
  return api_response::json(status, relay_json(r, self->state.env->relay_domain));
}

api_response tenant_response(self_ptr self) {
  return api_response::json(200, render_tenant(*self->state.row));
}

api_response error_response(const api_error& e) {
  return api_response::error(e);
}

std::optional<json> parse_body(tenant_call& call, std::initializer_list<const char*> allowed) {
  auto body = json::parse(call.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    call.respond(error_response({errc::invalid_json, "the body must be a JSON object", {}}));
    return std::nullopt;
  }
  for (auto& [k, v] : body.items())
    if (std::find_if(allowed.begin(), allowed.end(), [&k = k](const char* a) { return k == a; }) == allowed.end()) {
      call.respond(error_response(api_error::invalid_field(k, "unknown field " + k)));
      return std::nullopt;
    }
  return body;
}

/// A tenant as it is before its first write (not yet in the database).
tenant fresh_tenant(self_ptr self) {
  tenant t;
  t.pubkey = self->state.pubkey;
  t.created_at = t.updated_at = self->state.env->now();
  return t;
}

const relay* find_relay(self_ptr self, const std::string& id) {
  return relayhost::find_relay(*self->state.view, id);
}

/// Persists `apply` through the storage actor and runs `on_committed` only after
/// the commit. Other calls wait meanwhile (await): one write at a time per tenant,
/// so memory never runs ahead of the database. A conflict or a rejected write
/// was rolled back and leaves memory as it is; when the outcome is unknown (storage
/// down) the actor stops, and the next call loads the truth again.
///
/// The wait is bounded by the write's deadline, which the storage actor enforces
/// (a write still queued at its deadline is answered `unavailable`, not run), not by
/// a CAF request timeout: that would arm and cancel a timer on CAF's clock thread for
/// every write (~12 µs and a thread wake-up per relay creation, measured). The
/// storage actor always answers (its end answers too); a write that is running when
/// the deadline passes is answered with its real outcome once the disk returns.
void persist(self_ptr self, const char* label, std::function<void(SQLite::Database&)> apply,
             http::responder respond, std::string conflict_message, std::function<void()> on_committed) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(self->state.env->storage_timeout);
  self->request(self->state.env->storage, caf::infinite, write_atom::value,
                storage_write{label, std::move(apply), deadline})
    .await(
      [=](bool) { on_committed(); },
      [=](caf::error& err) {
        auto e = to_api_error(err);
        if (e.code == errc::conflict && !conflict_message.empty())
          e.message = conflict_message;
        if (e.message.empty())
          e.message = "the change could not be saved";
        respond(error_response(e));
        if (err.category() != caf::atom("relayhost")) {
          log::error("tenant write outcome unknown; reloading tenant", {{"write", label}});
          self->quit(err);
        }
      });
}

/// Asks the zooid client to push the relay's (new) desired state.
void sync_to_zooid(self_ptr self, const relay& r) {
  if (self->state.env->zooid)
    self->send(self->state.env->zooid, sync_atom::value, r);
}

/// Sets the billing anchor when a relay becomes active on a paid plan (api.md).
bool needs_anchor(self_ptr self, const tenant& t, const relay& r) {
  auto* p = find_plan(self->state.env->rules.plans, r.plan);
  return r.status == relay_status::active && p && p->paid() && !t.billing.anchor;
}

/// The anchor and the end of the first period (the scheduler's key).
void set_anchor(tenant& t, int64_t now) {
  t.billing.anchor = now;
  t.billing.next_close = billing::period_at(now, 0).end;
  t.updated_at = now;
}

// -- the tenant's wallet ------------------------------------------------------------

/// Records the outcome of wallet check `gen` as billing.nwc_status, unless a newer
/// check (or a change of the connection) has made it stale.
void record_wallet_status(self_ptr self, uint64_t gen, const std::vector<uint8_t>& sealed, const std::string& status) {
  auto& st = self->state;
  if (gen != st.wallet_check_gen || !st.row || st.row->billing.nwc_url_enc != sealed)
    return;
  st.wallet_checking = false;
  log::info("tenant wallet checked", {{"tenant", st.pubkey},
                                      {"wallet", st.row->billing.wallet_pubkey.value_or("")},
                                      {"status", status}});
  bool collect_now = status == "ok";
  if (st.row->billing.nwc_status == status) {
    if (collect_now)
      bill_now(self);
    return;
  }
  tenant t = *st.row;
  t.billing.nwc_status = status;
  persist(self, "tenant.wallet_status", [t](SQLite::Database& db) { storage::update_tenant_billing(db, t); },
          http::responder{[](api_response&&) {}}, {}, [self, t, collect_now] {
            set_row(self, t);
            show(self);
            if (collect_now)
              bill_now(self);  // saving a wallet collects the open invoices (also when suspended)
          });
}

void ask_tenant_wallet(self_ptr self, std::string method, std::string params,
                       std::function<void(const nwc_result&)> then) {
  auto& st = self->state;
  std::optional<nostr::nwc_uri> uri;
  if (st.env->wallet_env && st.row && st.row->billing.connected())
    if (auto text = st.env->box->open(st.row->billing.nwc_url_enc, "nwc:" + st.pubkey))
      uri = nostr::parse_nwc_uri(*text, nullptr);
  if (!uri) {
    nwc_result r;
    r.kind = nwc_result::not_sent;
    r.message = "the stored connection cannot be read";
    then(r);
    return;
  }
  auto client = self->spawn<caf::linked>(nwc_client_impl, *uri, st.env->wallet_env);
  auto done = [self, client] {
    self->unlink_from(client);  // its exit must not take the tenant actor with it
    self->send_exit(client, caf::exit_reason::user_shutdown);
  };
  self->request(client, st.env->wallet_answer_bound, nwc_atom::value, std::move(method), std::move(params))
    .then(
      [done, then](nwc_result& r) {
        done();
        then(r);
      },
      [done, then](caf::error& err) {
        done();
        nwc_result r;
        r.kind = nwc_result::unknown;
        r.message = "the wallet client did not answer: " + caf::to_string(err);
        then(r);
      });
}

/// Asks the tenant's wallet get_info in the background and records what it means
/// (domain/wallet_check.hpp): after PUT /tenant/billing committed a connection, and
/// at load when a crash left the status "unverified". A wallet that checks ok
/// collects the tenant's open invoices at once (billing.md "Collecting").
void check_wallet(self_ptr self) {
  auto& st = self->state;
  auto gen = ++st.wallet_check_gen;
  st.wallet_checking = false;
  if (!st.env->wallet_env || !st.row || !st.row->billing.connected())
    return;
  auto sealed = st.row->billing.nwc_url_enc;
  if (auto text = st.env->box->open(sealed, "nwc:" + st.pubkey); !text || !nostr::parse_nwc_uri(*text, nullptr)) {
    record_wallet_status(self, gen, sealed, "error: the stored connection cannot be read");
    return;
  }
  st.wallet_checking = true;
  ask_tenant_wallet(self, "get_info", "{}", [self, gen, sealed](const nwc_result& r) {
    auto network = self->state.env->platform_wallet ? self->state.env->platform_wallet->network() : std::nullopt;
    record_wallet_status(self, gen, sealed, tenant_wallet_status(r, network));
  });
}

// -- handlers -------------------------------------------------------------------

void get_tenant(self_ptr self, tenant_call& call) {
  if (self->state.row) {
    call.respond(tenant_response(self));
    return;
  }
  auto t = fresh_tenant(self);
  persist(self, "tenant.create", [t](SQLite::Database& db) { storage::insert_tenant(db, t); }, call.respond, {},
          [self, t, respond = call.respond] {
            set_row(self, t);
            show(self);
            respond(tenant_response(self));
          });
}

void put_billing(self_ptr self, tenant_call& call) {
  auto parsed = parse_body(call, {"nwc_url"});
  if (!parsed)
    return;
  auto& body = *parsed;
  auto it = body.find("nwc_url");
  if (it == body.end() || !(it->is_null() || it->is_string())) {
    call.respond(error_response(api_error::invalid_field("nwc_url", "nwc_url must be a connection URI or null")));
    return;
  }
  bool existed = self->state.row != nullptr;
  tenant t = existed ? *self->state.row : fresh_tenant(self);
  if (it->is_null()) {
    t.billing.nwc_url_enc.clear();
    t.billing.wallet_pubkey.reset();
    t.billing.nwc_status.reset();
  } else {
    std::string why;
    auto uri = nostr::parse_nwc_uri(it->get_ref<const std::string&>(), &why);
    if (!uri) {
      call.respond(error_response(api_error::invalid_field("nwc_url", "nwc_url is invalid: " + why)));
      return;
    }
    t.billing.nwc_url_enc = self->state.env->box->seal(it->get_ref<const std::string&>(), "nwc:" + t.pubkey);
    t.billing.wallet_pubkey = uri->wallet_pubkey;
    t.billing.nwc_status = "unverified";
  }
  t.updated_at = self->state.env->now();
  persist(self, "tenant.billing",
          [t, existed](SQLite::Database& db) {
            if (!existed)
              storage::ensure_tenant(db, t);
            storage::update_tenant_billing(db, t);
          },
          call.respond, {},
          [self, t, respond = call.respond] {
            set_row(self, t);
            show(self);
            respond(tenant_response(self));
            check_wallet(self);  // a new connection is checked; null ends an older check
          });
}

void list_relays(self_ptr self, tenant_call& call) {
  auto page = parse_page(call.limit, call.cursor);
  if (auto* e = std::get_if<api_error>(&page)) {
    call.respond(error_response(*e));
    return;
  }
  call.respond(api_response::json(
    200, render_relay_page(*self->state.view, std::get<page_request>(page), self->state.env->relay_domain)));
}

void create_relay(self_ptr self, tenant_call& call) {
  if (self->state.row && self->state.row->status == tenant_status::suspended) {
    call.respond(error_response({errc::tenant_suspended, "the tenant is suspended", {}}));
    return;
  }
  auto parsed = parse_relay_create(call.body, self->state.env->rules);
  if (auto* e = std::get_if<api_error>(&parsed)) {
    call.respond(error_response(*e));
    return;
  }
  auto& draft = std::get<relay_create>(parsed);
  for (auto& r : self->state.relays)
    if (r->subdomain == draft.subdomain) {
      call.respond(error_response({errc::conflict, "subdomain is already taken", {}}));
      return;
    }
  bool existed = self->state.row != nullptr;
  tenant t = existed ? *self->state.row : fresh_tenant(self);
  auto now = self->state.env->now();
  relay r;
  r.id = new_id();
  r.tenant = t.pubkey;
  r.subdomain = draft.subdomain;
  r.name = draft.name;
  r.description = draft.description;
  r.icon = draft.icon;
  r.plan = draft.plan;
  r.policy = draft.policy;
  r.status = relay_status::active;
  {
    auto secret = nostr::secret_key::generate();
    r.secret_enc = self->state.env->box->seal(secret.hex(), "relay-secret:" + r.id);
  }
  r.created_at = r.updated_at = now;
  bool anchor = needs_anchor(self, t, r);
  if (anchor)
    set_anchor(t, now);
  auto stored = std::make_shared<relay>(std::move(r));
  persist(self, "relay.create",
          [stored, t, existed, anchor](SQLite::Database& db) {
            if (!existed)
              storage::ensure_tenant(db, t);
            storage::insert_relay(db, *stored);
            storage::append_activity(db, {stored->id, stored->created_at, stored->plan, true, relay_status::active});
            if (anchor)
              storage::update_tenant_billing(db, t);
          },
          call.respond, "subdomain is already taken",
          [self, stored, t, respond = call.respond] {
            set_row(self, t);
            self->state.relays.push_back(stored);
            show(self);
            respond(relay_response(self, 201, *stored));
            sync_to_zooid(self, *stored);
          });
}

void get_relay(self_ptr self, tenant_call& call) {
  if (auto* r = find_relay(self, call.relay_id))
    call.respond(relay_response(self, 200, *r));
  else
    call.respond(error_response({errc::not_found, "no such relay", {}}));
}

/// Persists `after` as the new state of the relay `before` (same id), with an
/// audit row when an admin made the change, in one transaction.
void save_relay(self_ptr self, const relay& before, relay after, http::responder respond,
                std::optional<audit_entry> audit = std::nullopt) {
  auto now = self->state.env->now();
  after.updated_at = now;
  after.sync.state = sync_state::pending;  // zooid must learn the new desired state
  if (after.status != relay_status::suspended) {
    after.suspended_by.reset();
    after.suspend_reason.reset();
  }
  tenant t = *self->state.row;
  bool anchor = needs_anchor(self, t, after);
  if (anchor)
    set_anchor(t, now);
  bool admin_view = audit.has_value();
  if (audit) {
    json j;
    relay_to_admin_json(after, self->state.env->relay_domain, j);
    audit->after_json = j.dump();
  }
  bool log_activity = storage::activity_changed(before, after);
  persist(self, admin_view ? "relay.admin_update" : "relay.update",
          [after, t, anchor, log_activity, now, audit](SQLite::Database& db) {
            storage::update_relay(db, after);
            if (log_activity)
              storage::append_activity(db, {after.id, now, after.plan, after.status == relay_status::active,
                                            after.status});
            if (anchor)
              storage::update_tenant_billing(db, t);
            if (audit)
              storage::append_audit(db, *audit);
          },
          respond, {},
          [self, after, t, respond, admin_view] {
            set_row(self, t);
            replace_relay(self, after);
            show(self);
            if (admin_view) {
              json j;
              relay_to_admin_json(after, self->state.env->relay_domain, j);
              respond(ok_json(200, j));
            } else {
              respond(relay_response(self, 200, after));
            }
            sync_to_zooid(self, after);
          });
}

bool held_by_platform(const relay& r) {
  return r.status == relay_status::suspended || r.status == relay_status::delinquent;
}

/// Parses a relay change for `current`; answers the error and returns nullopt
/// when the body is invalid or tries to change the subdomain.
std::optional<relay_change> parse_change(self_ptr self, tenant_call& call, const relay& current,
                                         status_authority who) {
  auto parsed = parse_relay_change(call.body, self->state.env->rules, who);
  if (auto* e = std::get_if<api_error>(&parsed)) {
    call.respond(error_response(*e));
    return std::nullopt;
  }
  auto& change = std::get<relay_change>(parsed);
  if (change.subdomain && *change.subdomain != current.subdomain) {
    call.respond(error_response(api_error::invalid_field("subdomain", "subdomain cannot change")));
    return std::nullopt;
  }
  return std::move(change);
}

/// The descriptive fields of a change (everything but status).
void apply_fields(const relay_change& change, relay& after) {
  if (change.name) after.name = *change.name;
  if (change.description) after.description = *change.description;
  if (change.icon) after.icon = *change.icon;
  if (change.plan) after.plan = *change.plan;
  if (change.public_join) after.policy.public_join = *change.public_join;
  if (change.strip_signatures) after.policy.strip_signatures = *change.strip_signatures;
}

/// Whether a change left everything zooid and the API show as it was.
bool unchanged(const relay& a, const relay& b) {
  return a.name == b.name && a.description == b.description && a.icon == b.icon && a.plan == b.plan &&
         a.policy == b.policy && a.status == b.status;
}

/// The relay a tenant's write is about, or nullptr after answering why there is
/// none to write: the tenant is suspended (403) or has no such relay (404).
const relay* relay_to_write(self_ptr self, tenant_call& call) {
  if (self->state.row && self->state.row->status == tenant_status::suspended) {
    call.respond(error_response({errc::tenant_suspended, "the tenant is suspended", {}}));
    return nullptr;
  }
  auto* current = find_relay(self, call.relay_id);
  if (!current)
    call.respond(error_response({errc::not_found, "no such relay", {}}));
  return current;
}

api_response platform_held(const relay& r) {
  return error_response(
    {errc::forbidden, "the relay is " + std::string(to_string(r.status)) + "; only the platform can change its status",
     {}});
}

void update_relay(self_ptr self, tenant_call& call) {
  auto* current = relay_to_write(self, call);
  if (!current)
    return;
  auto parsed = parse_change(self, call, *current, status_authority::tenant);
  if (!parsed)
    return;
  auto& change = *parsed;
  relay after = *current;
  if (change.status && *change.status != current->status) {
    if (held_by_platform(*current)) {
      call.respond(platform_held(*current));
      return;
    }
    after.status = *change.status;
  }
  apply_fields(change, after);
  if (unchanged(after, *current)) {
    call.respond(relay_response(self, 200, *current));
    return;
  }
  save_relay(self, *current, std::move(after), call.respond);
}

void deactivate_relay(self_ptr self, tenant_call& call) {
  auto* current = relay_to_write(self, call);
  if (!current)
    return;
  if (current->status == relay_status::inactive) {
    call.respond(relay_response(self, 200, *current));
    return;
  }
  if (held_by_platform(*current)) {
    call.respond(platform_held(*current));
    return;
  }
  relay after = *current;
  after.status = relay_status::inactive;
  save_relay(self, *current, std::move(after), call.respond);
}

void list_invoices(self_ptr self, tenant_call& call) {
  auto page = parse_page(call.limit, call.cursor);
  if (auto* e = std::get_if<api_error>(&page)) {
    call.respond(error_response(*e));
    return;
  }
  auto p = std::get<page_request>(page);
  if (!self->state.row) {
    call.respond(ok_json(200, json{{"items", json::array()}, {"next_cursor", nullptr}}));
    return;
  }
  auto result = std::make_shared<storage::invoice_page>();
  auto pubkey = self->state.pubkey;
  // A read that does not change state: no need to hold other calls back for it.
  self->request(self->state.env->storage, self->state.env->storage_timeout, read_atom::value,
                storage_read{"invoice.list_tenant",
                             [result, pubkey, p](SQLite::Database& db) {
                               *result = storage::list_tenant_invoices(db, pubkey, p.limit, p.after);
                             }})
    .then(
      [result, respond = call.respond](bool) {
        json out{{"items", std::move(result->items)},
                 {"next_cursor", result->next ? json(encode_cursor(*result->next)) : json(nullptr)}};
        respond(ok_json(200, out));
      },
      [respond = call.respond](caf::error& err) { respond(error_response(to_api_error(err))); });
}

/// A zooid push ended (or is being retried). The sync fields describe the
/// desired state that was pushed: they are applied only if that is still the
/// relay's desired state (a later change has its own push under way).
void apply_sync_result(self_ptr self, zooid_sync_result& res) {
  auto* current = find_relay(self, res.relay_id);
  if (!current)
    return;
  relay after = *current;
  bool changed = after.zooid_provisioned != res.provisioned;
  after.zooid_provisioned = res.provisioned;
  if (zooid_fingerprint(*current, self->state.env->zooid_ctx) == res.fingerprint) {
    relay_sync s{res.state, res.error, res.attempts, res.at};
    changed = changed || s.state != after.sync.state || s.error != after.sync.error ||
              s.attempts != after.sync.attempts || s.last_attempt_at != after.sync.last_attempt_at;
    after.sync = std::move(s);
  }
  if (!changed)
    return;
  persist(self, "relay.sync", [after](SQLite::Database& db) { storage::update_relay(db, after); }, http::responder{},
          {}, [self, after] {
            replace_relay(self, after);
            show(self);
          });
}

// -- admin writes (api.md "Admin routes"), audited --------------------------------

api_response tenant_admin_response(self_ptr self, const tenant& t) {
  json j;
  tenant_to_admin_json(t, j);
  json relays = json::array();
  for (auto& r : self->state.relays) {
    json rj;
    relay_to_admin_json(*r, self->state.env->relay_domain, rj);
    relays.push_back(std::move(rj));
  }
  j["relays"] = std::move(relays);
  return ok_json(200, j);
}

int64_t real_now(self_ptr self) {
  auto& f = self->state.env->real_now;
  return f ? f() : static_cast<int64_t>(std::time(nullptr));
}

audit_entry make_audit(self_ptr self, const tenant_call& call, std::string action, std::string type,
                       std::string id, std::optional<std::string> reason, std::string before) {
  audit_entry a;
  a.at = static_cast<int64_t>(std::time(nullptr));  // audit times are real time, not the billing clock
  a.admin = call.admin;
  a.action = std::move(action);
  a.target_type = std::move(type);
  a.target_id = std::move(id);
  a.reason = std::move(reason);
  a.before_json = std::move(before);
  (void) self;
  return a;
}

/// {"status": "active"|"suspended", "reason": "…"}; reason required to suspend.
void admin_set_status(self_ptr self, tenant_call& call) {
  if (!self->state.row) {
    call.respond(error_response({errc::not_found, "no such tenant", {}}));
    return;
  }
  auto parsed = parse_body(call, {"status", "reason"});
  if (!parsed)
    return;
  auto& body = *parsed;
  auto st = body.contains("status") && body["status"].is_string()
              ? parse_tenant_status(body["status"].get_ref<const std::string&>())
              : std::nullopt;
  if (!st) {
    call.respond(error_response(api_error::invalid_field("status", "status must be active or suspended")));
    return;
  }
  std::optional<std::string> reason;
  if (body.contains("reason") && !body["reason"].is_null()) {
    auto len = body["reason"].is_string() ? utf8_length(body["reason"].get_ref<const std::string&>()) : std::nullopt;
    if (!len || *len < 1 || *len > 500) {
      call.respond(error_response(api_error::invalid_field("reason", "reason must be 1-500 characters")));
      return;
    }
    reason = body["reason"].get<std::string>();
  }
  if (*st == tenant_status::suspended && !reason) {
    call.respond(error_response(api_error::invalid_field("reason", "a reason is required to suspend")));
    return;
  }
  const tenant& before = *self->state.row;
  if (before.status == *st) {
    call.respond(tenant_admin_response(self, before));  // suspending twice changes nothing
    return;
  }
  auto now = self->state.env->now();
  tenant t = before;
  t.updated_at = now;
  std::vector<relay> changed;
  if (*st == tenant_status::suspended) {
    t.status = tenant_status::suspended;
    t.suspend_reason = reason;
    t.suspended_at = now;
    for (auto& r : self->state.relays)
      if (r->status == relay_status::active) {
        relay after = *r;
        after.status = relay_status::suspended;
        after.suspended_by = "tenant";
        after.suspend_reason = reason;
        changed.push_back(std::move(after));
      }
  } else {
    t.status = tenant_status::active;
    t.suspend_reason.reset();
    t.suspended_at.reset();
    // Exactly the relays this suspension changed come back; the tenant's own
    // deactivations and an admin's suspension of a single relay stay. With an open
    // invoice past its grace period, paid relays come back delinquent, free ones active.
    for (auto& r : self->state.relays)
      if (r->status == relay_status::suspended && r->suspended_by == std::string("tenant")) {
        relay after = *r;
        auto* plan = find_plan(self->state.env->rules.plans, r->plan);
        after.status = before.billing.delinquent && plan && plan->paid() ? relay_status::delinquent
                                                                          : relay_status::active;
        after.suspended_by.reset();
        after.suspend_reason.reset();
        changed.push_back(std::move(after));
      }
  }
  for (auto& r : changed) {
    r.updated_at = now;
    r.sync.state = sync_state::pending;
  }
  json before_j, after_j;
  tenant_to_admin_json(before, before_j);
  tenant_to_admin_json(t, after_j);
  json ids = json::array();
  for (auto& r : changed)
    ids.push_back(r.id);
  after_j["relays_changed"] = ids;
  auto audit = make_audit(self, call, *st == tenant_status::suspended ? "tenant.suspend" : "tenant.unsuspend",
                          "tenant", t.pubkey, reason, before_j.dump());
  audit.after_json = after_j.dump();
  // The tenant is told, with the reason; the notice is part of the same transaction.
  auto dm = *st == tenant_status::suspended
              ? notice(self, "tenant.suspended", "tenant:" + t.pubkey + ":suspended:" + std::to_string(now),
                       suspension_notice(self->state.env->platform_name, *reason))
              : notice(self, "tenant.unsuspended",
                       "tenant:" + t.pubkey + ":unsuspended:" + std::to_string(before.suspended_at.value_or(now)),
                       suspension_lifted_notice(self->state.env->platform_name));
  persist(self, "tenant.admin_status",
          [t, changed, audit, now, dm](SQLite::Database& db) {
            storage::update_tenant_status(db, t);
            for (auto& r : changed) {
              storage::update_relay(db, r);
              storage::append_activity(db, {r.id, now, r.plan, r.status == relay_status::active, r.status});
            }
            storage::append_audit(db, audit);
            if (dm)
              storage::insert_notification(db, *dm);
          },
          call.respond, {},
          [self, t, changed, dm, respond = call.respond] {
            if (dm)
              kick_notifier(self);
            set_row(self, t);
            for (auto& r : changed)
              replace_relay(self, r);
            show(self);  // takes effect at once, for the io threads' reads too
            respond(tenant_admin_response(self, t));
            for (auto& r : changed)
              sync_to_zooid(self, r);
          });
}

void admin_update_relay(self_ptr self, tenant_call& call) {
  auto* current = self->state.row ? find_relay(self, call.relay_id) : nullptr;
  if (!current) {
    call.respond(error_response({errc::not_found, "no such relay", {}}));
    return;
  }
  auto parsed = parse_change(self, call, *current, status_authority::admin);
  if (!parsed)
    return;
  auto& change = *parsed;
  relay after = *current;
  apply_fields(change, after);
  std::string action = "relay.update";
  if (change.status && *change.status != current->status) {
    auto to = *change.status;
    if (to == relay_status::suspended) {
      if (!change.reason) {
        call.respond(error_response(api_error::invalid_field("reason", "a reason is required to suspend")));
        return;
      }
      after.suspended_by = "admin";
      after.suspend_reason = change.reason;
      action = "relay.suspend";
    } else if (to == relay_status::active && self->state.row->status == tenant_status::suspended) {
      call.respond(error_response(
        {errc::conflict, "the tenant is suspended: lift the tenant's suspension before activating its relays", {}}));
      return;
    }
    after.status = to;
  }
  if (unchanged(after, *current)) {
    json j;
    relay_to_admin_json(*current, self->state.env->relay_domain, j);
    call.respond(ok_json(200, j));
    return;
  }
  json before_j;
  relay_to_admin_json(*current, self->state.env->relay_domain, before_j);
  save_relay(self, *current, std::move(after), call.respond,
             make_audit(self, call, action, "relay", current->id, change.reason, before_j.dump()));
}

void admin_deactivate_relay(self_ptr self, tenant_call& call) {
  auto* current = self->state.row ? find_relay(self, call.relay_id) : nullptr;
  if (!current) {
    call.respond(error_response({errc::not_found, "no such relay", {}}));
    return;
  }
  if (current->status == relay_status::inactive) {
    json j;
    relay_to_admin_json(*current, self->state.env->relay_domain, j);
    call.respond(ok_json(200, j));
    return;
  }
  json before_j;
  relay_to_admin_json(*current, self->state.env->relay_domain, before_j);
  relay after = *current;
  after.status = relay_status::inactive;
  save_relay(self, *current, std::move(after), call.respond,
             make_audit(self, call, "relay.deactivate", "relay", current->id, std::nullopt, before_j.dump()));
}

/// POST /admin/tenants/:pubkey/message {"text": "…"}: a DM from the platform to
/// the tenant through the outbox (audited, in one transaction); 202 with the
/// notification's id. The text is 1–2000 characters.
void admin_message(self_ptr self, tenant_call& call) {
  if (!self->state.row) {
    call.respond(error_response({errc::not_found, "no such tenant", {}}));
    return;
  }
  auto parsed = parse_body(call, {"text"});
  if (!parsed)
    return;
  auto& body = *parsed;
  auto len = body.contains("text") && body["text"].is_string()
               ? utf8_length(body["text"].get_ref<const std::string&>())
               : std::nullopt;
  if (!len || *len < admin_message_min_chars || *len > admin_message_max_chars) {
    call.respond(error_response(api_error::invalid_field("text", "text must be a string of 1-2000 characters")));
    return;
  }
  if (!self->state.env->notifier) {
    call.respond(error_response(
      {errc::unavailable, "notifications are disabled on this server (NOSTR_INDEXER_RELAYS is not set)", {}}));
    return;
  }
  auto id = new_id();
  auto dm = make_notification(id, self->state.pubkey, "admin.message", "admin.message:" + id,
                              body["text"].get<std::string>(), real_now(self));
  json after{{"notification", id}, {"characters", *len}};  // the audit names the message, not its text
  auto audit = make_audit(self, call, "tenant.message", "tenant", self->state.pubkey, std::nullopt, "{}");
  audit.after_json = after.dump();
  persist(self, "tenant.admin_message",
          [dm, audit](SQLite::Database& db) {
            storage::insert_notification(db, dm);
            storage::append_audit(db, audit);
          },
          call.respond, {},
          [self, dm, respond = call.respond] {
            kick_notifier(self);
            respond(ok_json(202, json{{"id", dm.id}, {"state", "pending"}, {"recipient", dm.recipient}}));
          });
}

void dispatch(self_ptr self, tenant_call& call) {
  switch (call.op) {
    case tenant_op::get_tenant: return get_tenant(self, call);
    case tenant_op::put_billing: return put_billing(self, call);
    case tenant_op::list_relays: return list_relays(self, call);
    case tenant_op::create_relay: return create_relay(self, call);
    case tenant_op::get_relay: return get_relay(self, call);
    case tenant_op::update_relay: return update_relay(self, call);
    case tenant_op::deactivate_relay: return deactivate_relay(self, call);
    case tenant_op::list_invoices: return list_invoices(self, call);
    case tenant_op::admin_set_status: return admin_set_status(self, call);
    case tenant_op::admin_update_relay: return admin_update_relay(self, call);
    case tenant_op::admin_deactivate_relay: return admin_deactivate_relay(self, call);
    case tenant_op::admin_message: return admin_message(self, call);
    case tenant_op::bill: return bill(self, call);
    case tenant_op::admin_set_invoice: return admin_set_invoice(self, call);
  }
  call.respond(error_response({errc::internal, "unknown operation", {}}));
}

void touch(self_ptr self) {
  self->state.last_active = self->clock().now();
  if (!self->state.idle_armed) {
    self->state.idle_armed = true;
    self->delayed_send(self, self->state.env->idle_timeout, idle_atom::value);
  }
}

} // namespace tenant_detail

using namespace tenant_detail;

tenant_actor::behavior_type tenant_actor_impl(self_ptr self, std::string pubkey, std::shared_ptr<const tenant_env> env,
                                              tenant_registry_actor registry) {
  self->state.env = env;
  self->state.registry = registry;
  self->state.pubkey = pubkey;
  // Load the whole state before the first call is handled (await holds the calls).
  auto snapshot = std::make_shared<storage::tenant_snapshot>();
  self->request(env->storage, env->storage_timeout, read_atom::value,
                storage_read{"tenant.load",
                             [snapshot, pubkey](SQLite::Database& db) { *snapshot = storage::load_tenant(db, pubkey); }})
    .await(
      [self, snapshot](bool) {
        if (snapshot->row)
          set_row(self, *snapshot->row);
        for (auto& r : snapshot->relays)
          self->state.relays.push_back(std::make_shared<const relay>(std::move(r)));
        show(self);
        // A check that a crash or stop cut short is run again.
        if (self->state.row && self->state.row->billing.connected() &&
            self->state.row->billing.nwc_status == std::optional<std::string>("unverified"))
          check_wallet(self);
      },
      [self](caf::error& err) {
        log::error("tenant load failed", {{"error", caf::to_string(err)}});
        self->quit(err);
      });
  // However the actor ends, its view goes with it (by owner: never a successor's).
  if (env->views)
    self->attach_functor([board = env->views, pubkey, id = self->id()] { board->withdraw(pubkey, id); });
  touch(self);
  return {
    [self](call_atom, tenant_call& call) {
      try {
        dispatch(self, call);
      } catch (const std::exception& ex) {
        log::error("tenant call failed", {{"error", ex.what()}});
        call.respond(error_response({errc::internal, "internal error", {}}));
      }
      touch(self);
    },
    [self](synced_atom, zooid_sync_result& res) {
      try {
        apply_sync_result(self, res);
      } catch (const std::exception& ex) {
        log::error("applying a zooid sync outcome failed", {{"error", ex.what()}});
      }
      touch(self);
    },
    [self](idle_atom) {
      self->state.idle_armed = false;
      auto& board = self->state.env->views;
      if (board && board->take_read_mark(self->state.pubkey, self->id()))
        self->state.last_active = self->clock().now();  // read from the board meanwhile
      if (self->state.wallet_checking || !self->state.minting.empty() || !self->state.collecting.empty())
        self->state.last_active = self->clock().now();  // a wallet check or make_invoice is work in progress
      auto idle_for = self->clock().now() - self->state.last_active;
      auto limit = self->state.env->idle_timeout;
      if (idle_for >= limit) {
        self->send(self->state.registry, idle_atom::value, self->state.pubkey, static_cast<tenant_actor>(self));
      } else {
        self->state.idle_armed = true;
        self->delayed_send(self, limit - idle_for, idle_atom::value);
      }
    },
    [self](stop_atom) { self->quit(); },
  };
}

} // namespace relayhost
