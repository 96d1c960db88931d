#include "app/routes.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>

#include <nlohmann/json.hpp>

#include <caf/send.hpp>

#include "app/bridge.hpp"
#include "app/openapi.hpp"
#include "domain/page.hpp"
#include "domain/tenant_view.hpp"
#include "domain/views.hpp"

namespace relayhost {

namespace {

using namespace std::chrono_literals;

// api.md: /healthz must answer within 1 s even under load; the storage actor gets
// most of that second, the rest is for the answer's trip back.
constexpr auto health_storage_timeout = 800ms;
// api.md: the zooid field reports an outcome at most this old, else "unknown".
constexpr int64_t zooid_health_max_age_seconds = 30;

std::string zooid_health_text(const std::shared_ptr<const zooid_health>& h) {
  if (!h)
    return "unknown";
  auto state = h->state.load();
  auto age = static_cast<int64_t>(std::time(nullptr)) - h->at.load();
  if (state == zooid_health::unknown || age > zooid_health_max_age_seconds)
    return "unknown";
  return state == zooid_health::ok ? "ok" : "unreachable";
}

void add_health(http::router& r, const app_context& ctx) {
  r.add("GET", "/healthz", http::auth_mode::none,
        [ctx](http::api_request&&, http::responder respond) {
          auto zooid = zooid_health_text(ctx.zooid_status);
          auto answer = [zooid](bool database_ok) {
            nlohmann::json body{{"status", database_ok ? "ok" : "degraded"},
                                {"database", database_ok ? "ok" : "unavailable"},
                                {"zooid", zooid},
                                {"version", RELAYHOST_VERSION}};
            return http::api_response::json(database_ok ? 200 : 503, body.dump());
          };
          // A failure or timeout is not an error response here: health reports it.
          ctx.sys->spawn([=](caf::event_based_actor* self) {
            self->request(ctx.storage, health_storage_timeout, ping_atom::value)
              .then(
                [=](bool ok) {
                  respond(answer(ok));
                  self->quit();
                },
                [=](caf::error&) {
                  respond(answer(false));
                  self->quit();
                });
          });
        });
}

/// Answers a tenant read from the view its actor published, on this io thread.
/// False when there is none (actor not loaded, tenant not created): the call
/// then goes to the actor, which loads, creates or answers it.
bool answer_from_view(const app_context& ctx, tenant_op op, const http::api_request& req,
                      http::responder& respond) {
  if (!ctx.views || !ctx.cfg)
    return false;
  if (op != tenant_op::get_tenant && op != tenant_op::list_relays && op != tenant_op::get_relay)
    return false;
  auto view = ctx.views->find(req.pubkey);
  if (!view)
    return false;
  const auto& domain = ctx.cfg->relay_domain;
  switch (op) {
    case tenant_op::get_tenant:
      if (!view->row)
        return false;  // the first GET /tenant creates the tenant: the actor's job
      respond(http::api_response::json(200, render_tenant(*view->row)));
      return true;
    case tenant_op::list_relays: {
      auto page = parse_page(req.query_param("limit"), req.query_param("cursor"));
      if (auto* e = std::get_if<api_error>(&page))
        respond(http::api_response::error(*e));
      else
        respond(http::api_response::json(200, render_relay_page(*view, std::get<page_request>(page), domain)));
      return true;
    }
    default:
      if (auto* r = find_relay(*view, req.param("id")))
        respond(http::api_response::json(200, relay_json(*r, domain)));
      else
        respond(http::api_response::error(errc::not_found, "no such relay"));
      return true;
  }
}

// Each tenant route becomes a tenant_call to the caller's actor, through the
// registry; the actor answers through the responder. Nothing waits here. Reads
// of a loaded tenant are answered from the view its actor published.
void add_tenant_route(http::router& r, const app_context& ctx, const char* method, const char* path,
                      tenant_op op) {
  r.add(method, path, http::auth_mode::nip98, [ctx, op](http::api_request&& req, http::responder respond) {
    if (answer_from_view(ctx, op, req, respond))
      return;
    tenant_call call;
    call.op = op;
    call.relay_id = req.param("id");
    call.body = std::move(req.body);
    if (op == tenant_op::list_relays || op == tenant_op::list_invoices) {
      call.limit = req.query_param("limit");
      call.cursor = req.query_param("cursor");
    }
    call.respond = std::move(respond);
    caf::anon_send(ctx.registry, call_atom::value, std::move(req.pubkey), std::move(call));
  });
}

void add_tenant_routes(http::router& r, const app_context& ctx) {
  add_tenant_route(r, ctx, "GET", "/tenant", tenant_op::get_tenant);
  add_tenant_route(r, ctx, "PUT", "/tenant/billing", tenant_op::put_billing);
  add_tenant_route(r, ctx, "GET", "/tenant/relays", tenant_op::list_relays);
  add_tenant_route(r, ctx, "POST", "/tenant/relays", tenant_op::create_relay);
  add_tenant_route(r, ctx, "GET", "/tenant/relays/:id", tenant_op::get_relay);
  add_tenant_route(r, ctx, "PUT", "/tenant/relays/:id", tenant_op::update_relay);
  add_tenant_route(r, ctx, "DELETE", "/tenant/relays/:id", tenant_op::deactivate_relay);
  add_tenant_route(r, ctx, "GET", "/tenant/invoices", tenant_op::list_invoices);
}

// Admin routes: NIP-98 first (401), then membership in HOSTING_ADMIN_PUBKEYS (403).
void add_admin_route(http::router& r, const app_context& ctx, const char* method, const char* path, admin_op op) {
  r.add(method, path, http::auth_mode::nip98, [ctx, op](http::api_request&& req, http::responder respond) {
    const auto& admins = ctx.cfg->admin_pubkeys;
    if (std::find(admins.begin(), admins.end(), req.pubkey) == admins.end()) {
      respond(http::api_response::error(errc::forbidden, "admin only"));
      return;
    }
    admin_call call;
    call.op = op;
    call.admin = std::move(req.pubkey);
    call.target = !req.param("pubkey").empty() ? req.param("pubkey") : req.param("id");
    call.body = std::move(req.body);
    // GET /admin/notifications filters by `state` (its rows have no status).
    call.status = req.query_param(op == admin_op::list_notifications ? "state" : "status");
    call.tenant = req.query_param("tenant");
    call.limit = req.query_param("limit");
    call.cursor = req.query_param("cursor");
    call.respond = std::move(respond);
    caf::anon_send(ctx.admin, call_atom::value, std::move(call));
  });
}

void add_admin_routes(http::router& r, const app_context& ctx) {
  add_admin_route(r, ctx, "GET", "/admin/tenants", admin_op::list_tenants);
  add_admin_route(r, ctx, "GET", "/admin/tenants/:pubkey", admin_op::get_tenant);
  add_admin_route(r, ctx, "PUT", "/admin/tenants/:pubkey", admin_op::set_tenant_status);
  add_admin_route(r, ctx, "GET", "/admin/relays", admin_op::list_relays);
  add_admin_route(r, ctx, "GET", "/admin/relays/:id", admin_op::get_relay);
  add_admin_route(r, ctx, "PUT", "/admin/relays/:id", admin_op::update_relay);
  add_admin_route(r, ctx, "DELETE", "/admin/relays/:id", admin_op::deactivate_relay);
  add_admin_route(r, ctx, "GET", "/admin/audit", admin_op::list_audit);
  add_admin_route(r, ctx, "POST", "/admin/tenants/:pubkey/message", admin_op::message_tenant);
  add_admin_route(r, ctx, "GET", "/admin/notifications", admin_op::list_notifications);
  add_admin_route(r, ctx, "GET", "/admin/invoices", admin_op::list_invoices);
  add_admin_route(r, ctx, "PUT", "/admin/invoices/:id", admin_op::set_invoice);
  // api.md: without BILLING_TEST_CLOCK=1 the clock routes do not exist (404).
  if (ctx.cfg && ctx.cfg->billing_test_clock) {
    add_admin_route(r, ctx, "GET", "/admin/clock", admin_op::get_clock);
    add_admin_route(r, ctx, "POST", "/admin/clock", admin_op::move_clock);
  }
}

} // namespace

std::shared_ptr<http::router> make_router(const app_context& ctx) {
  auto r = std::make_shared<http::router>();
  add_health(*r, ctx);
  add_tenant_routes(*r, ctx);
  add_admin_routes(*r, ctx);
  add_openapi_route(*r, ctx.cfg ? ctx.cfg->public_url : std::string());
  return r;
}

} // namespace relayhost
