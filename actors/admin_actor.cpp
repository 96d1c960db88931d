#include "actors/admin_actor.hpp"

#include <caf/all.hpp>

#include <nlohmann/json.hpp>

#include "actors/errc_caf.hpp"
#include "domain/page.hpp"
#include "domain/views.hpp"
#include "nostr/keys.hpp"
#include "storage/admin_queries.hpp"
#include "storage/billing_store.hpp"
#include "storage/clock_store.hpp"
#include "storage/invoice_store.hpp"
#include "storage/notification_store.hpp"
#include "storage/tenant_store.hpp"

namespace relayhost {

namespace {

using self_ptr = instrumented_pointer<admin_actor, admin_state>;
using http::api_response;
using json = nlohmann::json;

// GET /admin/tenants/:pubkey lists the latest invoices (api.md).
constexpr int64_t tenant_detail_invoices = 20;

/// One outbox row for GET /admin/notifications. The text is the platform's own
/// notice (never anything a tenant sent); the gift wrap itself is not shown.
void notification_to_json(const notification& n, json& j) {
  j = json{{"id", n.id},
           {"recipient", n.recipient},
           {"kind", n.kind},
           {"state", to_string(n.state)},
           {"text", n.text},
           {"attempts", n.attempts},
           {"event_id", n.wrap_id ? json(*n.wrap_id) : json(nullptr)},
           {"next_attempt_at", n.next_attempt_at ? json(*n.next_attempt_at) : json(nullptr)},
           {"last_error", n.last_error ? json(*n.last_error) : json(nullptr)},
           {"created_at", n.created_at},
           {"updated_at", n.updated_at},
           {"sent_at", n.sent_at ? json(*n.sent_at) : json(nullptr)}};
  json relays = json::array();
  if (n.relays_json) {
    auto parsed = json::parse(*n.relays_json, nullptr, false);
    if (parsed.is_array())
      relays = std::move(parsed);
  }
  j["relays"] = std::move(relays);
}

api_response ok_json(const json& j) {
  return api_response::json(200, j.dump(-1, ' ', false, json::error_handler_t::replace));
}

/// Runs `query` on the storage actor, then `render` (on this actor) answers.
template <class Result, class Query, class Render>
void read(self_ptr self, const char* label, Query query, Render render, http::responder respond) {
  auto result = std::make_shared<Result>();
  self->request(self->state.env->storage, self->state.env->storage_timeout, read_atom::value,
                storage_read{label, [result, query](SQLite::Database& db) { *result = query(db); }})
    .then([result, render, respond](bool) { respond(render(*result)); },
          [respond](caf::error& err) { respond(api_response::error(to_api_error(err))); });
}

template <class T, class ToJson>
json page_json(const storage::page_of<T>& page, ToJson to_json) {
  json items = json::array();
  for (auto& x : page.items) {
    json j;
    to_json(x, j);
    items.push_back(std::move(j));
  }
  return json{{"items", std::move(items)}, {"next_cursor", page.next ? json(encode_cursor(*page.next)) : json(nullptr)}};
}

std::optional<page_request> page_or_answer(const admin_call& call) {
  auto p = parse_page(call.limit, call.cursor);
  if (auto* e = std::get_if<api_error>(&p)) {
    call.respond(api_response::error(*e));
    return std::nullopt;
  }
  return std::get<page_request>(p);
}

void forward_to_tenant(self_ptr self, const std::string& pubkey, tenant_op op, admin_call& call,
                       std::string relay_id = {}) {
  tenant_call c;
  c.op = op;
  c.relay_id = std::move(relay_id);
  c.body = std::move(call.body);
  c.admin = call.admin;
  c.respond = call.respond;
  self->send(self->state.env->registry, call_atom::value, pubkey, std::move(c));
}

json clock_json(const billing::billing_clock& c) {
  // One reading of the real clock for both, so now - real_now is exactly the offset
  // even when a second boundary falls between two readings.
  auto real = billing::billing_clock::real_now();
  return json{{"now", real + c.offset()}, {"real_now", real}};
}

/// POST /admin/clock: the new offset is stored (with its audit entry) before it is
/// in force, so a move that answered 200 survives kill -9. The write is awaited:
/// moves are applied one at a time, each from the offset the previous one left.
void move_clock(self_ptr self, admin_call& call) {
  auto clk = self->state.env->clock;
  auto real = billing::billing_clock::real_now();
  auto before = clk->offset();
  auto parsed = billing::parse_clock_move(call.body, real + before, real);
  if (auto* e = std::get_if<api_error>(&parsed))
    return call.respond(api_response::error(*e));
  auto offset = std::get<int64_t>(parsed);
  audit_entry a;
  a.at = real;
  a.admin = call.admin;
  a.action = "clock.move";
  a.target_type = "clock";
  a.target_id = "billing";
  a.before_json = json{{"offset_seconds", before}, {"now", real + before}}.dump();
  a.after_json = json{{"offset_seconds", offset}, {"now", real + offset}}.dump();
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(self->state.env->storage_timeout);
  auto respond = call.respond;
  self->request(self->state.env->storage, caf::infinite, write_atom::value,
                storage_write{"clock.move",
                              [offset, real, a](SQLite::Database& db) {
                                storage::store_clock_offset(db, offset, real);
                                storage::append_audit(db, a);
                              },
                              deadline})
    .await(
      [self, clk, offset, respond](bool) {
        clk->raise_offset(offset);
        respond(ok_json(clock_json(*clk)));
        if (auto& s = self->state.env->scheduler)
          self->send(s, tick_atom::value, true);  // periods that closed by the move are billed now
      },
      [respond](caf::error& err) { respond(api_response::error(to_api_error(err))); });
}

void handle(self_ptr self, admin_call& call) {
  auto domain = self->state.env->relay_domain;
  switch (call.op) {
    case admin_op::list_tenants: {
      auto p = page_or_answer(call);
      if (!p)
        return;
      std::optional<tenant_status> status;
      if (call.status) {
        status = parse_tenant_status(*call.status);
        if (!status)
          return call.respond(api_response::error(api_error::invalid_field("status", "status must be active or suspended")));
      }
      read<storage::page_of<tenant>>(
        self, "admin.tenants", [status, p](SQLite::Database& db) { return storage::list_tenants(db, status, p->limit, p->after); },
        [](const storage::page_of<tenant>& page) { return ok_json(page_json(page, tenant_to_admin_json)); },
        call.respond);
      return;
    }
    case admin_op::get_tenant: {
      auto pk = nostr::parse_pubkey(call.target);
      if (!pk)
        return call.respond(api_response::error(errc::not_found, "no such tenant"));
      struct detail {
        storage::tenant_snapshot snap;
        storage::invoice_page invoices;
      };
      read<detail>(
        self, "admin.tenant",
        [pk](SQLite::Database& db) {
          detail d{storage::load_tenant(db, *pk), {}};
          if (d.snap.row)
            d.invoices = storage::list_tenant_invoices(db, *pk, tenant_detail_invoices, std::nullopt);
          return d;
        },
        [domain](const detail& d) {
          if (!d.snap.row)
            return api_response::error(errc::not_found, "no such tenant");
          json j;
          tenant_to_admin_json(*d.snap.row, j);
          json relays = json::array();
          for (auto& r : d.snap.relays) {
            json rj;
            relay_to_admin_json(r, domain, rj);
            relays.push_back(std::move(rj));
          }
          j["relays"] = std::move(relays);
          j["invoices"] = d.invoices.items;
          return ok_json(j);
        },
        call.respond);
      return;
    }
    case admin_op::set_tenant_status: {
      auto pk = nostr::parse_pubkey(call.target);
      if (!pk)
        return call.respond(api_response::error(errc::not_found, "no such tenant"));
      forward_to_tenant(self, *pk, tenant_op::admin_set_status, call);
      return;
    }
    case admin_op::list_relays: {
      auto p = page_or_answer(call);
      if (!p)
        return;
      std::optional<relay_status> status;
      std::optional<std::string> tenant;
      if (call.status) {
        status = parse_relay_status(*call.status);
        if (!status)
          return call.respond(api_response::error(
            api_error::invalid_field("status", "status must be active, inactive, suspended or delinquent")));
      }
      if (call.tenant) {
        tenant = nostr::parse_pubkey(*call.tenant);
        if (!tenant)
          return call.respond(api_response::error(api_error::invalid_field("tenant", "tenant must be a hex or npub pubkey")));
      }
      read<storage::page_of<relay>>(
        self, "admin.relays",
        [status, tenant, p](SQLite::Database& db) { return storage::list_relays(db, status, tenant, p->limit, p->after); },
        [domain](const storage::page_of<relay>& page) {
          return ok_json(page_json(page, [&](const relay& r, json& j) { relay_to_admin_json(r, domain, j); }));
        },
        call.respond);
      return;
    }
    case admin_op::get_relay:
    case admin_op::update_relay:
    case admin_op::deactivate_relay: {
      auto id = call.target;
      auto c = std::make_shared<admin_call>(std::move(call));
      read<std::optional<relay>>(
        self, "admin.relay", [id](SQLite::Database& db) { return storage::find_relay(db, id); },
        [self, c, domain](const std::optional<relay>& r) -> api_response {
          if (!r)
            return api_response::error(errc::not_found, "no such relay");
          if (c->op == admin_op::get_relay) {
            json j;
            relay_to_admin_json(*r, domain, j);
            return ok_json(j);
          }
          // The owner's actor applies the change and answers through the responder.
          forward_to_tenant(self, r->tenant,
                            c->op == admin_op::update_relay ? tenant_op::admin_update_relay
                                                            : tenant_op::admin_deactivate_relay,
                            *c, r->id);
          return api_response{};  // not sent: the responder answers once, from the tenant actor
        },
        http::responder([c](http::api_response&& r) {
          if (c->op == admin_op::get_relay || r.status != 200 || !r.body.empty())
            c->respond(std::move(r));
        }));
      return;
    }
    case admin_op::message_tenant: {
      auto pk = nostr::parse_pubkey(call.target);
      if (!pk)
        return call.respond(api_response::error(errc::not_found, "no such tenant"));
      forward_to_tenant(self, *pk, tenant_op::admin_message, call);
      return;
    }
    case admin_op::list_notifications: {
      auto p = page_or_answer(call);
      if (!p)
        return;
      std::optional<notification_state> state;
      std::optional<std::string> tenant;
      if (call.status) {
        state = parse_notification_state(*call.status);
        if (!state)
          return call.respond(api_response::error(
            api_error::invalid_field("state", "state must be pending, sent, undeliverable or failed")));
      }
      if (call.tenant) {
        tenant = nostr::parse_pubkey(*call.tenant);
        if (!tenant)
          return call.respond(api_response::error(api_error::invalid_field("tenant", "tenant must be a hex or npub pubkey")));
      }
      read<storage::page_of<notification>>(
        self, "admin.notifications",
        [state, tenant, p](SQLite::Database& db) { return storage::list_notifications(db, state, tenant, p->limit, p->after); },
        [](const storage::page_of<notification>& page) { return ok_json(page_json(page, notification_to_json)); },
        call.respond);
      return;
    }
    case admin_op::list_invoices: {
      auto p = page_or_answer(call);
      if (!p)
        return;
      std::optional<std::string> status, tenant;
      if (call.status) {
        if (*call.status != "open" && *call.status != "paid" && *call.status != "void")
          return call.respond(
            api_response::error(api_error::invalid_field("status", "status must be open, paid or void")));
        status = *call.status;
      }
      if (call.tenant) {
        tenant = nostr::parse_pubkey(*call.tenant);
        if (!tenant)
          return call.respond(api_response::error(api_error::invalid_field("tenant", "tenant must be a hex or npub pubkey")));
      }
      read<storage::admin_invoice_page>(
        self, "admin.invoices",
        [status, tenant, p](SQLite::Database& db) { return storage::list_invoices(db, status, tenant, p->limit, p->after); },
        [](const storage::admin_invoice_page& page) {
          return ok_json(json{{"items", page.items},
                              {"next_cursor", page.next ? json(encode_cursor(*page.next)) : json(nullptr)}});
        },
        call.respond);
      return;
    }
    case admin_op::set_invoice: {
      auto id = call.target;
      auto c = std::make_shared<admin_call>(std::move(call));
      read<std::optional<std::string>>(
        self, "admin.invoice_tenant", [id](SQLite::Database& db) { return storage::invoice_tenant(db, id); },
        [self, c](const std::optional<std::string>& owner) -> api_response {
          if (!owner)
            return api_response::error(errc::not_found, "no such invoice");
          forward_to_tenant(self, *owner, tenant_op::admin_set_invoice, *c, c->target);
          return api_response{};  // not sent: the tenant actor answers
        },
        http::responder([c](http::api_response&& r) {
          if (r.status != 200 || !r.body.empty())
            c->respond(std::move(r));
        }));
      return;
    }
    case admin_op::get_clock:
      return call.respond(ok_json(clock_json(*self->state.env->clock)));
    case admin_op::move_clock:
      return move_clock(self, call);
    case admin_op::list_audit: {
      auto p = page_or_answer(call);
      if (!p)
        return;
      read<storage::page_of<audit_entry>>(
        self, "admin.audit", [p](SQLite::Database& db) { return storage::list_audit(db, p->limit, p->after); },
        [](const storage::page_of<audit_entry>& page) { return ok_json(page_json(page, audit_to_json)); },
        call.respond);
      return;
    }
  }
}

} // namespace

admin_actor::behavior_type admin_actor_impl(self_ptr self, std::shared_ptr<const admin_env> env) {
  self->state.env = std::move(env);
  return {
    [self](call_atom, admin_call& call) { handle(self, call); },
  };
}

} // namespace relayhost
