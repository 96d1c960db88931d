// The SQL of invoicing against a real migrated database: the activity log read
// per tenant and cut at the period's end; a period's invoice inserted once
// (a second one for the same period changes nothing, also with another id); the
// schedule; bolt11s (every one kept, a reused hash refused, none for an invoice no
// longer open); the admin's paid/void only from open; the due list in pubkey order.
#undef CAF_SUITE
#define CAF_SUITE storage_billing
#include <caf/test/unit_test.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include "storage/billing_store.hpp"
#include "storage/collection_store.hpp"
#include "storage/errors.hpp"
#include "storage/tenant_store.hpp"
#include "tests/support/temp_db.hpp"

using namespace relayhost;
using namespace relayhost::storage;

namespace {

const std::string alice(64, 'a'), bob(64, 'b'), carol(64, 'c');

struct fixture {
  test::temp_db tmp;
  std::unique_ptr<SQLite::Database> db = tmp.open();

  fixture() {
    for (auto* pk : {&alice, &bob, &carol}) {
      tenant t;
      t.pubkey = *pk;
      t.created_at = t.updated_at = 1;
      insert_tenant(*db, t);
    }
    add_relay("r-a1", alice, "aone");
    add_relay("r-a2", alice, "atwo");
    add_relay("r-b1", bob, "bone");
  }

  void add_relay(const std::string& id, const std::string& owner, const std::string& sub) {
    relay r;
    r.id = id;
    r.tenant = owner;
    r.subdomain = sub;
    r.name = sub;
    r.plan = "basic";
    r.secret_enc = {1, 2, 3};
    r.created_at = r.updated_at = 100;
    insert_relay(*db, r);
  }

  new_invoice invoice(const std::string& id, const std::string& owner, int64_t start, int64_t amount = 5000) {
    new_invoice inv;
    inv.id = id;
    inv.tenant = owner;
    inv.period_start = start;
    inv.period_end = start + 1000;
    inv.created_at = start + 1000;
    inv.due_at = start + 2000;
    inv.amount_sats = amount;
    billing::relay_item item;
    item.relay_id = owner == alice ? "r-a1" : "r-b1";
    item.plan = "growth";
    item.amount_sats = amount;
    item.active_seconds = 900;
    item.active_hours = 1;
    item.segments = {{"basic", 400, 2}, {"growth", 500, 4998}};
    inv.items = {item};
    inv.subdomains = {{"r-a1", "aone"}, {"r-b1", "bone"}};
    return inv;
  }

  int64_t count(const std::string& sql) { return db->execAndGet(sql).getInt64(); }

  errc rejected_code(std::function<void()> f) {
    try {
      f();
    } catch (const rejected& r) {
      return r.code();
    }
    return errc::internal;
  }
};

std::string status_of(SQLite::Database& db, const std::string& id) {
  return find_invoice(db, id).value_or(nlohmann::json{{"status", "none"}})["status"].get<std::string>();
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(storage_billing_tests, fixture)

CAF_TEST(the activity log is read per relay of the tenant and cut at the end) {
  append_activity(*db, {"r-a1", 100, "basic", true, relay_status::active});
  append_activity(*db, {"r-a1", 500, "growth", true, relay_status::active});
  append_activity(*db, {"r-a2", 200, "basic", false, relay_status::inactive});
  append_activity(*db, {"r-b1", 100, "basic", true, relay_status::active});
  append_activity(*db, {"r-a1", 900, "growth", false, relay_status::inactive});
  auto logs = load_tenant_activity(*db, alice, 900);
  CAF_CHECK_EQUAL(logs.size(), 2u);
  CAF_CHECK_EQUAL(logs["r-a1"].size(), 2u);  // the row at 900 is not before 900
  CAF_CHECK_EQUAL(logs["r-a1"][1].plan, "growth");
  CAF_CHECK_EQUAL(logs["r-a2"][0].status, relay_status::inactive);
  CAF_CHECK_EQUAL(load_tenant_activity(*db, carol, 10000).size(), 0u);
}

CAF_TEST(one invoice per tenant and period whatever the id) {
  CAF_CHECK(insert_invoice(*db, invoice("inv-1", alice, 1000)));
  CAF_CHECK(!insert_invoice(*db, invoice("inv-2", alice, 1000, 7)));  // a retry or a race: nothing changes
  CAF_CHECK(insert_invoice(*db, invoice("inv-3", bob, 1000)));
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoices"), 2);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoice_items"), 2);
  CAF_CHECK_EQUAL(balance_due(*db, alice), 5000);
  auto j = *find_invoice(*db, "inv-1");
  CAF_CHECK_EQUAL(j["items"][0]["subdomain"].get<std::string>(), "aone");
  CAF_CHECK_EQUAL(j["items"][0]["segments"].size(), 2u);
  CAF_CHECK_EQUAL(j["items"][0]["segments"][1]["amount_sats"].get<int64_t>(), 4998);
  CAF_CHECK_EQUAL(j["tenant"].get<std::string>(), alice);
  CAF_CHECK(!find_invoice(*db, "inv-2"));
  CAF_CHECK_EQUAL(invoice_tenant(*db, "inv-3").value_or(""), bob);
}

CAF_TEST(the schedule is stored with the tenant and read back) {
  set_next_close(*db, alice, 123456);
  CAF_CHECK_EQUAL(load_tenant_row(*db, alice)->billing.next_close.value_or(0), 123456);
  bool threw = false;
  try {
    set_next_close(*db, std::string(64, 'f'), 1);  // no such tenant
  } catch (const std::runtime_error&) {
    threw = true;
  }
  CAF_CHECK(threw);
}

CAF_TEST(bolt11s are kept and replaced only while open) {
  insert_invoice(*db, invoice("inv-1", alice, 1000));
  auto todo = invoices_to_mint(*db, alice, 5000);
  CAF_REQUIRE_EQUAL(todo.size(), 1u);
  CAF_CHECK(todo[0].first);
  CAF_CHECK(store_bolt11(*db, "inv-1", "lnbc-one", std::string(64, '1'), 2000, 3000));
  CAF_CHECK(invoices_to_mint(*db, alice, 2999).empty());  // current until it expires
  todo = invoices_to_mint(*db, alice, 3000);
  CAF_REQUIRE_EQUAL(todo.size(), 1u);
  CAF_CHECK(!todo[0].first);  // a renewal
  CAF_CHECK(store_bolt11(*db, "inv-1", "lnbc-two", std::string(64, '2'), 3000, 4000));
  CAF_CHECK_EQUAL((*find_invoice(*db, "inv-1"))["bolt11"].get<std::string>(), "lnbc-two");
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoice_payment_hashes WHERE invoice = 'inv-1'"), 2);
  // A wallet that hands out a hash it gave before: refused, nothing changes.
  bool threw = false;
  try {
    SQLite::Transaction tx(*db);
    store_bolt11(*db, "inv-1", "lnbc-three", std::string(64, '1'), 4000, 5000);
  } catch (const SQLite::Exception&) {
    threw = true;
  }
  CAF_CHECK(threw);
  CAF_CHECK_EQUAL((*find_invoice(*db, "inv-1"))["bolt11"].get<std::string>(), "lnbc-two");
  // Not open any more: no bolt11 is stored, nothing is due.
  set_invoice_status_by_admin(*db, alice, "inv-1", "void", "written off", 4500);
  CAF_CHECK(!store_bolt11(*db, "inv-1", "lnbc-four", std::string(64, '4'), 4600, 9000));
  CAF_CHECK(invoices_to_mint(*db, alice, 99999).empty());
}

CAF_TEST(paid and void only from open and only for the owner) {
  insert_invoice(*db, invoice("inv-1", alice, 1000));
  insert_invoice(*db, invoice("inv-2", alice, 2000));
  CAF_CHECK_EQUAL(rejected_code([&] { set_invoice_status_by_admin(*db, bob, "inv-1", "paid", "x", 5); }),
                  errc::not_found);
  CAF_CHECK_EQUAL(rejected_code([&] { set_invoice_status_by_admin(*db, alice, "nope", "paid", "x", 5); }),
                  errc::not_found);
  set_invoice_status_by_admin(*db, alice, "inv-1", "paid", "bank transfer", 5);
  auto j = *find_invoice(*db, "inv-1");
  CAF_CHECK_EQUAL(j["status"].get<std::string>(), "paid");
  CAF_CHECK_EQUAL(j["paid_via"].get<std::string>(), "admin");
  CAF_CHECK_EQUAL(j["paid_at"].get<int64_t>(), 5);
  CAF_CHECK_EQUAL(j["status_reason"].get<std::string>(), "bank transfer");
  CAF_CHECK_EQUAL(rejected_code([&] { set_invoice_status_by_admin(*db, alice, "inv-1", "void", "x", 6); }),
                  errc::conflict);
  CAF_CHECK_EQUAL(rejected_code([&] { set_invoice_status_by_admin(*db, alice, "inv-1", "paid", "x", 6); }),
                  errc::conflict);
  CAF_CHECK_EQUAL(status_of(*db, "inv-1"), "paid");
  set_invoice_status_by_admin(*db, alice, "inv-2", "void", "goodwill", 7);
  CAF_CHECK_EQUAL(status_of(*db, "inv-2"), "void");
  CAF_CHECK_EQUAL(balance_due(*db, alice), 0);
}

CAF_TEST(the admin list filters by status and tenant in creation order with a cursor) {
  insert_invoice(*db, invoice("inv-1", alice, 1000));
  insert_invoice(*db, invoice("inv-2", bob, 1000));
  insert_invoice(*db, invoice("inv-3", alice, 2000));
  set_invoice_status_by_admin(*db, alice, "inv-3", "void", "x", 1);
  auto ids = [](const admin_invoice_page& p) {
    std::vector<std::string> out;
    for (auto& j : p.items)
      out.push_back(j["id"].get<std::string>());
    return out;
  };
  CAF_CHECK_EQUAL(ids(list_invoices(*db, std::nullopt, std::nullopt, 10, std::nullopt)),
                  (std::vector<std::string>{"inv-1", "inv-2", "inv-3"}));
  CAF_CHECK_EQUAL(ids(list_invoices(*db, std::string("open"), std::nullopt, 10, std::nullopt)),
                  (std::vector<std::string>{"inv-1", "inv-2"}));
  CAF_CHECK_EQUAL(ids(list_invoices(*db, std::nullopt, alice, 10, std::nullopt)),
                  (std::vector<std::string>{"inv-1", "inv-3"}));
  auto first = list_invoices(*db, std::nullopt, std::nullopt, 2, std::nullopt);
  CAF_CHECK_EQUAL(ids(first).size(), 2u);
  CAF_REQUIRE(first.next);
  CAF_CHECK_EQUAL(ids(list_invoices(*db, std::nullopt, std::nullopt, 2, first.next)),
                  (std::vector<std::string>{"inv-3"}));
}

CAF_TEST(the due list holds tenants whose close has come and with mint those needing a bolt11) {
  set_next_close(*db, carol, 500);
  set_next_close(*db, alice, 5000);
  insert_invoice(*db, invoice("inv-b", bob, 1000));
  CAF_CHECK_EQUAL(billing_due_tenants(*db, 1000, false, "", 10), (std::vector<std::string>{carol}));
  CAF_CHECK_EQUAL(billing_due_tenants(*db, 1000, true, "", 10), (std::vector<std::string>{bob, carol}));
  CAF_CHECK_EQUAL(billing_due_tenants(*db, 6000, true, "", 10), (std::vector<std::string>{alice, bob, carol}));
  CAF_CHECK_EQUAL(billing_due_tenants(*db, 6000, true, "", 2), (std::vector<std::string>{alice, bob}));
  CAF_CHECK_EQUAL(billing_due_tenants(*db, 6000, true, bob, 2), (std::vector<std::string>{carol}));
  store_bolt11(*db, "inv-b", "lnbc", std::string(64, 'e'), 1000, 8000);
  CAF_CHECK_EQUAL(billing_due_tenants(*db, 6000, true, "", 10), (std::vector<std::string>{alice, carol}));
  CAF_CHECK_EQUAL(billing_due_tenants(*db, 8000, true, "", 10), (std::vector<std::string>{alice, bob, carol}));
}

CAF_TEST(collection sees open invoices with a bolt11 when their step is due) {
  insert_invoice(*db, invoice("inv-1", alice, 1000));
  insert_invoice(*db, invoice("inv-2", alice, 2000));
  CAF_CHECK(collectible_invoices(*db, alice, 5000, false).empty());  // no bolt11 yet
  store_bolt11(*db, "inv-1", "lnbc-a", std::string(64, '1'), 2000, 3000);
  store_bolt11(*db, "inv-1", "lnbc-b", std::string(64, '2'), 3000, 9000);
  store_bolt11(*db, "inv-2", "lnbc-c", std::string(64, '3'), 3000, 9000);
  set_next_action(*db, "inv-1", 4000, 2);
  set_next_action(*db, "inv-2", 6000, 0);
  auto due = collectible_invoices(*db, alice, 5000, false);
  CAF_REQUIRE_EQUAL(due.size(), 1u);
  CAF_CHECK_EQUAL(due[0].id, "inv-1");
  CAF_CHECK_EQUAL(due[0].bolt11, "lnbc-b");
  CAF_CHECK_EQUAL(due[0].hashes, (std::vector<std::string>{std::string(64, '1'), std::string(64, '2')}));
  // A day after the old bolt11 expired (at 3000) it is no longer looked up; the current one always.
  auto later = collectible_invoices(*db, alice, 3000 + 86400 + 1, true);
  CAF_REQUIRE_EQUAL(later.size(), 2u);
  CAF_CHECK_EQUAL(later[0].hashes, (std::vector<std::string>{std::string(64, '2')}));
  CAF_CHECK_EQUAL(due[0].checks, 2);
  CAF_CHECK_EQUAL(collectible_invoices(*db, alice, 5000, true).size(), 2u);  // all: after a wallet was saved
  CAF_CHECK_EQUAL(billing_due_tenants(*db, 5000, true, "", 10), (std::vector<std::string>{alice}));
  CAF_CHECK(billing_due_tenants(*db, 3999, true, "", 10).empty());
}

CAF_TEST(an attempt is recorded once until it ends and payment and delinquency happen once) {
  insert_invoice(*db, invoice("inv-1", alice, 1000));
  store_bolt11(*db, "inv-1", "lnbc-a", std::string(64, '1'), 2000, 3000);
  record_attempt(*db, "inv-1", 2500, std::string(64, '1'));
  CAF_CHECK_EQUAL(rejected_code([&] { record_attempt(*db, "inv-1", 2600, std::string(64, '1')); }), errc::conflict);
  auto c = collectible_invoices(*db, alice, 0, true)[0];
  CAF_CHECK_EQUAL(c.attempt_state, "in_flight");
  CAF_CHECK_EQUAL(c.attempt_at.value_or(0), 2500);
  finish_attempt(*db, "inv-1", "failed", "INSUFFICIENT_BALANCE");
  c = collectible_invoices(*db, alice, 0, true)[0];
  CAF_CHECK_EQUAL(c.attempt_state, "failed");
  CAF_CHECK_EQUAL(c.attempt_error, "INSUFFICIENT_BALANCE");
  record_attempt(*db, "inv-1", 90000, std::string(64, '1'));  // a later attempt
  CAF_CHECK(!tenant_delinquent(*db, alice));
  CAF_CHECK(mark_delinquent(*db, "inv-1", 95000));
  CAF_CHECK(!mark_delinquent(*db, "inv-1", 96000));
  CAF_CHECK(tenant_delinquent(*db, alice));
  CAF_CHECK(mark_paid(*db, "inv-1", 97000));
  CAF_CHECK(!mark_paid(*db, "inv-1", 98000));
  CAF_CHECK(!tenant_delinquent(*db, alice));
  auto j = *find_invoice(*db, "inv-1");
  CAF_CHECK_EQUAL(j["paid_via"].get<std::string>(), "lightning");
  CAF_CHECK_EQUAL(j["paid_at"].get<int64_t>(), 97000);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM invoices WHERE pay_attempt_state = 'succeeded'"), 1);
  CAF_CHECK_EQUAL(rejected_code([&] { record_attempt(*db, "inv-1", 99000, std::string(64, '1')); }), errc::conflict);
  CAF_CHECK(collectible_invoices(*db, alice, 0, true).empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
