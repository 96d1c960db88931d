// Opening the database, the migration runner, and the schema's constraints, on a
// real file database in a temporary directory.
#define CAF_SUITE storage_migrations
#include <caf/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include "storage/clock_store.hpp"
#include "storage/database.hpp"
#include "storage/errors.hpp"
#include "storage/migrations.hpp"

#include "tests/support/checks.hpp"

using namespace relayhost;
using namespace relayhost::storage;
namespace fs = std::filesystem;

namespace {

/// A fresh directory under the system's temp dir, removed with everything in it.
struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "rh-storage-XXXXXX").string();
    if (!mkdtemp(pattern.data()))
      CAF_FAIL("mkdtemp failed");
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

const std::string tenant_a = std::string(64, 'a');
const std::string tenant_b = std::string(64, 'b');

struct fixture {
  temp_dir dir;
  std::string path = (dir.path / "hosting.db").string();
  std::unique_ptr<SQLite::Database> db;

  std::unique_ptr<SQLite::Database> open() {
    std::string error;
    auto out = open_database(path, &error);
    if (!out)
      CAF_FAIL("open_database: " << error);
    return out;
  }

  // Opens and migrates with the embedded migrations.
  void open_migrated() {
    db = open();
    std::string error;
    auto applied = migrate(*db, embedded_migrations(), &error);
    if (!applied)
      CAF_FAIL("migrate: " << error);
  }

  // The extended result code of a statement that must fail (0 if it succeeded).
  int failure_of(const std::string& sql) {
    try {
      db->exec(sql);
    } catch (const SQLite::Exception& e) {
      return e.getExtendedErrorCode();
    }
    return 0;
  }

  void add_tenant(const std::string& pubkey) {
    db->exec("INSERT INTO tenants (pubkey, created_at, updated_at) VALUES ('" + pubkey + "', 1, 1)");
  }

  std::string relay_sql(const std::string& id, const std::string& tenant, const std::string& subdomain) {
    return "INSERT INTO relays (id, tenant, subdomain, name, plan, secret_enc, created_at, updated_at) VALUES ('" +
           id + "', '" + tenant + "', '" + subdomain + "', 'Name', 'basic', x'00', 1, 1)";
  }

  std::string invoice_sql(const std::string& id, const std::string& tenant, int period_start) {
    return "INSERT INTO invoices (id, tenant, amount_sats, period_start, period_end, created_at, due_at) "
           "VALUES ('" + id + "', '" + tenant + "', 100, " + std::to_string(period_start) + ", " +
           std::to_string(period_start + 100) + ", 1, 2)";
  }

  // Everything migrations can change: the schema and the history.
  std::string snapshot() {
    std::string out;
    SQLite::Statement s(*db, "SELECT type || name || coalesce(sql, '') FROM sqlite_schema ORDER BY name");
    while (s.executeStep())
      out += s.getColumn(0).getString() + "\n";
    SQLite::Statement h(*db, "SELECT version || name || applied_at FROM schema_migrations ORDER BY version");
    while (h.executeStep())
      out += h.getColumn(0).getString() + "\n";
    return out;
  }
};

int64_t count(SQLite::Database& db, const std::string& sql) {
  return db.execAndGet(sql).getInt64();
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(storage_migrations_tests, fixture)

// -- the embedded list ------------------------------------------------------------

CAF_TEST(embedded migrations are well formed and start at 1) {
  const auto& all = embedded_migrations();
  CAF_REQUIRE_GREATER_OR_EQUAL(all.size(), 3u);
  CAF_CHECK_EQUAL(check_migrations(all), "");
  CAF_CHECK_EQUAL(all[0].version, 1);
  CAF_CHECK_EQUAL(std::string(all[0].name), "0001_init.sql");
  CAF_CHECK_EQUAL(std::string(all[1].name), "0002_relay_activity.sql");
  CAF_CHECK_EQUAL(std::string(all[2].name), "0003_audit_log.sql");
}

// -- migrate ------------------------------------------------------------------------

CAF_TEST(a fresh database gets every migration in order) {
  db = open();
  CAF_CHECK_EQUAL(schema_version(*db), 0);
  std::string error;
  auto applied = migrate(*db, embedded_migrations(), &error);
  CAF_REQUIRE(applied.has_value());
  CAF_CHECK_EQUAL(error, "");
  std::vector<std::string> expected;
  for (const auto& m : embedded_migrations())
    expected.emplace_back(m.name);
  CAF_CHECK_EQUAL(*applied, expected);
  CAF_CHECK_EQUAL(schema_version(*db), embedded_migrations().back().version);
  for (auto table : {"tenants", "relays", "invoices", "invoice_items", "invoice_payment_hashes", "relay_activity",
                     "audit_log", "schema_migrations"})
    CHECK_MSG(db->tableExists(table), "missing table " << table);
  CAF_CHECK_EQUAL(count(*db, "SELECT count(*) FROM schema_migrations WHERE applied_at > 1700000000"),
                  static_cast<int64_t>(expected.size()));
  CAF_CHECK_EQUAL(count(*db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
}

CAF_TEST(running migrate again applies nothing and changes nothing) {
  open_migrated();
  auto before = snapshot();
  auto changes_before = db->getTotalChanges();
  std::string error;
  auto again = migrate(*db, embedded_migrations(), &error);
  CAF_REQUIRE(again.has_value());
  CAF_CHECK(again->empty());
  CAF_CHECK_EQUAL(db->getTotalChanges(), changes_before);
  CAF_CHECK_EQUAL(snapshot(), before);
  // A restart (new connection) too.
  db = open();
  auto after_restart = migrate(*db, embedded_migrations(), &error);
  CAF_REQUIRE(after_restart.has_value());
  CAF_CHECK(after_restart->empty());
  CAF_CHECK_EQUAL(snapshot(), before);
}

CAF_TEST(a database newer than the binary is refused) {
  open_migrated();
  auto future = std::to_string(embedded_migrations().back().version + 1);
  db->exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (" + future + ", 'future.sql', 1)");
  auto before = snapshot();
  std::string error;
  auto applied = migrate(*db, embedded_migrations(), &error);
  CAF_CHECK(!applied.has_value());
  CAF_CHECK_EQUAL(error, "database schema version " + future + " is newer than this relayhost (knows up to " +
                           std::to_string(embedded_migrations().back().version) + "); upgrade relayhost");
  CAF_CHECK_EQUAL(snapshot(), before);
}

CAF_TEST(malformed migration lists are rejected before touching the database) {
  const std::vector<migration> decreasing = {{2, "0002_b.sql", "CREATE TABLE b (x INT)"},
                                             {1, "0001_a.sql", "CREATE TABLE a (x INT)"}};
  const std::vector<migration> duplicate = {{1, "0001_a.sql", "CREATE TABLE a (x INT)"},
                                            {1, "0001_b.sql", "CREATE TABLE b (x INT)"}};
  const std::vector<migration> zero = {{0, "0000_a.sql", "CREATE TABLE a (x INT)"}};
  const std::vector<migration> no_sql = {{1, "0001_a.sql", nullptr}};
  CAF_CHECK_NOT_EQUAL(check_migrations(decreasing).find("strictly increasing"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(check_migrations(duplicate).find("appears twice"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(check_migrations(zero).find("positive"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(check_migrations(no_sql).find("no name or no SQL"), std::string::npos);
  db = open();
  for (const auto* list : {&decreasing, &duplicate, &zero, &no_sql}) {
    std::string error;
    CAF_CHECK(!migrate(*db, *list, &error).has_value());
    CAF_CHECK_NOT_EQUAL(error.find("invalid migration list"), std::string::npos);
  }
  CAF_CHECK(!db->tableExists("a"));
  CAF_CHECK(!db->tableExists("b"));
  CAF_CHECK(!db->tableExists("schema_migrations"));
}

CAF_TEST(a failing migration is rolled back entirely and earlier ones stay) {
  const std::vector<migration> list = {
    {1, "0001_a.sql", "CREATE TABLE a (x INT)"},
    {2, "0002_bad.sql", "CREATE TABLE b (x INT); INSERT INTO b VALUES (1); INSERT INTO missing VALUES (1);"},
    {3, "0003_c.sql", "CREATE TABLE c (x INT)"},
  };
  db = open();
  std::string error;
  CAF_CHECK(!migrate(*db, list, &error).has_value());
  CAF_CHECK_NOT_EQUAL(error.find("migration 0002_bad.sql failed and was rolled back"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(error.find("no such table: missing"), std::string::npos);
  CAF_CHECK(db->tableExists("a"));
  CAF_CHECK(!db->tableExists("b"));
  CAF_CHECK(!db->tableExists("c"));
  CAF_CHECK_EQUAL(schema_version(*db), 1);
  CAF_CHECK_EQUAL(sqlite3_get_autocommit(db->getHandle()), 1);
}

CAF_TEST(a migration cannot end its own transaction) {
  const std::vector<migration> list = {
    {1, "0001_a.sql", "CREATE TABLE a (x INT); COMMIT; CREATE TABLE b (x INT);"},
  };
  db = open();
  std::string error;
  CAF_CHECK(!migrate(*db, list, &error).has_value());
  CAF_CHECK_NOT_EQUAL(error.find("BEGIN/COMMIT"), std::string::npos);
  CAF_CHECK(!db->tableExists("a"));
  CAF_CHECK_EQUAL(schema_version(*db), 0);
}

CAF_TEST(a migration that breaks a foreign key is rolled back) {
  open_migrated();
  std::vector<migration> list(embedded_migrations());
  const std::string orphan = "PRAGMA defer_foreign_keys = ON; "
                             "INSERT INTO relays (id, tenant, subdomain, name, plan, secret_enc, created_at, "
                             "updated_at) VALUES ('r', '" + std::string(64, 'c') + "', 'orphan', 'n', 'free', x'00', 1, 1);";
  list.push_back({99, "0099_orphan.sql", orphan.c_str()});
  std::string error;
  CAF_CHECK(!migrate(*db, list, &error).has_value());
  CAF_CHECK_NOT_EQUAL(error.find("foreign key"), std::string::npos);
  CAF_CHECK_EQUAL(count(*db, "SELECT count(*) FROM relays"), 0);
  CAF_CHECK_EQUAL(schema_version(*db), embedded_migrations().back().version);
}

CAF_TEST(a history that disagrees with the binary is refused) {
  const std::vector<migration> v1 = {{1, "0001_a.sql", "CREATE TABLE a (x INT)"}};
  const std::vector<migration> renamed = {{1, "0001_other.sql", "CREATE TABLE a (x INT)"}};
  const std::vector<migration> gap = {{1, "0001_a.sql", "CREATE TABLE a (x INT)"},
                                      {2, "0002_b.sql", "CREATE TABLE b (x INT)"},
                                      {3, "0003_c.sql", "CREATE TABLE c (x INT)"}};
  db = open();
  std::string error;
  CAF_REQUIRE(migrate(*db, v1, &error).has_value());
  CAF_CHECK(!migrate(*db, renamed, &error).has_value());
  CAF_CHECK_NOT_EQUAL(error.find("recorded as \"0001_a.sql\""), std::string::npos);
  // Version 3 applied but 2 never: applying 2 now would run it out of order.
  db->exec("INSERT INTO schema_migrations VALUES (3, '0003_c.sql', 1)");
  CAF_CHECK(!migrate(*db, gap, &error).has_value());
  CAF_CHECK_NOT_EQUAL(error.find("0002_b.sql was never applied"), std::string::npos);
  CAF_CHECK(!db->tableExists("b"));
}

CAF_TEST(migrations continue from where the database is) {
  const std::vector<migration> v1 = {{1, "0001_a.sql", "CREATE TABLE a (x INT)"}};
  const std::vector<migration> v2 = {{1, "0001_a.sql", "CREATE TABLE a (x INT)"},
                                     {2, "0002_b.sql", "CREATE TABLE b (x INT)"}};
  db = open();
  std::string error;
  auto first = migrate(*db, v1, &error);
  CAF_REQUIRE(first.has_value());
  CAF_CHECK_EQUAL(*first, std::vector<std::string>{"0001_a.sql"});
  auto second = migrate(*db, v2, &error);
  CAF_REQUIRE(second.has_value());
  CAF_CHECK_EQUAL(*second, std::vector<std::string>{"0002_b.sql"});
  CAF_CHECK_EQUAL(schema_version(*db), 2);
}

// -- the schema's constraints ---------------------------------------------------------

CAF_TEST(tenant constraints) {
  open_migrated();
  add_tenant(tenant_a);
  CAF_CHECK_EQUAL(failure_of("INSERT INTO tenants (pubkey, created_at, updated_at) VALUES ('" + tenant_a + "', 1, 1)"),
                  SQLITE_CONSTRAINT_UNIQUE);
  CAF_CHECK_EQUAL(failure_of("INSERT INTO tenants (pubkey, created_at, updated_at) VALUES ('" + std::string(64, 'A') +
                             "', 1, 1)"),
                  SQLITE_CONSTRAINT_CHECK);
  CAF_CHECK_EQUAL(failure_of("INSERT INTO tenants (pubkey, created_at, updated_at) VALUES ('abc', 1, 1)"),
                  SQLITE_CONSTRAINT_CHECK);
  CAF_CHECK_EQUAL(failure_of("UPDATE tenants SET status = 'deleted'"), SQLITE_CONSTRAINT_CHECK);
  // Suspended exactly when there is a reason.
  CAF_CHECK_EQUAL(failure_of("UPDATE tenants SET status = 'suspended'"), SQLITE_CONSTRAINT_CHECK);
  CAF_CHECK_EQUAL(failure_of("UPDATE tenants SET status = 'suspended', suspend_reason = 'spam', suspended_at = 5"), 0);
  CAF_CHECK_EQUAL(failure_of("UPDATE tenants SET status = 'active'"), SQLITE_CONSTRAINT_CHECK);
  CAF_CHECK_EQUAL(failure_of("UPDATE tenants SET status = 'active', suspend_reason = NULL, suspended_at = NULL"), 0);
  // STRICT: no silent coercion of a wrong type.
  CAF_CHECK_EQUAL(failure_of("UPDATE tenants SET created_at = 'yesterday'"), SQLITE_CONSTRAINT_DATATYPE);
  // Wallet fields need a connection.
  CAF_CHECK_EQUAL(failure_of("UPDATE tenants SET nwc_status = 'ok'"), SQLITE_CONSTRAINT_CHECK);
  CAF_CHECK_EQUAL(
    failure_of("UPDATE tenants SET nwc_url_enc = x'01', wallet_pubkey = '" + tenant_b + "', nwc_status = 'error: timeout'"),
    0);
  CAF_CHECK_EQUAL(failure_of("UPDATE tenants SET nwc_status = 'weird'"), SQLITE_CONSTRAINT_CHECK);
}

CAF_TEST(relay constraints) {
  open_migrated();
  add_tenant(tenant_a);
  CAF_CHECK_EQUAL(failure_of(relay_sql("r1", tenant_a, "my-relay")), 0);
  // Subdomains are unique across all relays, whoever owns them.
  add_tenant(tenant_b);
  CAF_CHECK_EQUAL(failure_of(relay_sql("r2", tenant_b, "my-relay")), SQLITE_CONSTRAINT_UNIQUE);
  CAF_CHECK(classify_sqlite_error(SQLITE_CONSTRAINT_UNIQUE) == errc::conflict);
  CAF_CHECK_EQUAL(failure_of(relay_sql("r1", tenant_b, "other")), SQLITE_CONSTRAINT_UNIQUE);
  // The DNS-label rule.
  for (auto bad : {"ab", "1relay", "-relay", "relay-", "My-relay", "my_relay", "my.relay", "rélay",
                   "a234567890123456789012345678901234567890123456789012345678901234"})
    CHECK_MSG(failure_of(relay_sql("x", tenant_a, bad)) == SQLITE_CONSTRAINT_CHECK, "accepted " << bad);
  int n = 0;
  for (auto good : {"abc", "a-1", "r2d2", "a23456789012345678901234567890123456789012345678901234567890123"})
    CHECK_MSG(failure_of(relay_sql("ok" + std::to_string(++n), tenant_a, good)) == 0, "refused " << good);
  // Foreign key to the tenant.
  CAF_CHECK_EQUAL(failure_of(relay_sql("r9", std::string(64, 'c'), "orphan")), SQLITE_CONSTRAINT_FOREIGNKEY);
  // Vocabularies.
  CAF_CHECK_EQUAL(failure_of("UPDATE relays SET status = 'deleted' WHERE id = 'r1'"), SQLITE_CONSTRAINT_CHECK);
  CAF_CHECK_EQUAL(failure_of("UPDATE relays SET sync_state = 'done' WHERE id = 'r1'"), SQLITE_CONSTRAINT_CHECK);
  CAF_CHECK_EQUAL(failure_of("UPDATE relays SET policy_public_join = 2 WHERE id = 'r1'"), SQLITE_CONSTRAINT_CHECK);
  CAF_CHECK_EQUAL(failure_of("UPDATE relays SET policy_strip_signatures = 2 WHERE id = 'r1'"), SQLITE_CONSTRAINT_CHECK);
  CAF_CHECK_EQUAL(failure_of("UPDATE relays SET icon = 'http://x/i.png' WHERE id = 'r1'"), SQLITE_CONSTRAINT_CHECK);
  CAF_CHECK_EQUAL(failure_of("UPDATE relays SET name = '' WHERE id = 'r1'"), SQLITE_CONSTRAINT_CHECK);
  // 64 characters, not bytes: "é" is two bytes.
  std::string e_acute_64;
  for (int i = 0; i < 64; ++i)
    e_acute_64 += "\xc3\xa9";
  CAF_CHECK_EQUAL(failure_of("UPDATE relays SET name = '" + e_acute_64 + "' WHERE id = 'r1'"), 0);
  CAF_CHECK_EQUAL(failure_of("UPDATE relays SET name = '" + e_acute_64 + "e' WHERE id = 'r1'"),
                  SQLITE_CONSTRAINT_CHECK);
  CAF_CHECK_EQUAL(failure_of("UPDATE relays SET suspended_by = 'tenant' WHERE id = 'r1'"), SQLITE_CONSTRAINT_CHECK);
  CAF_CHECK_EQUAL(failure_of("UPDATE relays SET status = 'suspended', suspended_by = 'tenant' WHERE id = 'r1'"), 0);
  CAF_CHECK_EQUAL(failure_of("UPDATE relays SET status = 'active', suspended_by = 'nobody' WHERE id = 'r1'"),
                  SQLITE_CONSTRAINT_CHECK);
  // A relay has a secret.
  CAF_CHECK_EQUAL(failure_of("INSERT INTO relays (id, tenant, subdomain, name, plan, created_at, updated_at) "
                             "VALUES ('r3', '" + tenant_a + "', 'no-secret', 'n', 'free', 1, 1)"),
                  SQLITE_CONSTRAINT_NOTNULL);
  // seq follows creation order.
  CAF_CHECK_EQUAL(failure_of(relay_sql("r-late", tenant_b, "late")), 0);
  CAF_CHECK(count(*db, "SELECT seq FROM relays WHERE id = 'r-late'") > count(*db, "SELECT seq FROM relays WHERE id = 'r1'"));
}

CAF_TEST(invoice constraints) {
  open_migrated();
  add_tenant(tenant_a);
  CAF_CHECK_EQUAL(failure_of(invoice_sql("i1", tenant_a, 1000)), 0);
  // billing.md: one invoice per tenant and period, whatever happens.
  CAF_CHECK_EQUAL(failure_of(invoice_sql("i2", tenant_a, 1000)), SQLITE_CONSTRAINT_UNIQUE);
  CAF_CHECK_EQUAL(failure_of(invoice_sql("i1", tenant_a, 2000)), SQLITE_CONSTRAINT_UNIQUE);
  CAF_CHECK_EQUAL(failure_of(invoice_sql("i3", std::string(64, 'c'), 1000)), SQLITE_CONSTRAINT_FOREIGNKEY);
  CAF_CHECK_EQUAL(failure_of("UPDATE invoices SET status = 'refunded'"), SQLITE_CONSTRAINT_CHECK);
  CAF_CHECK_EQUAL(failure_of("UPDATE invoices SET amount_sats = -1"), SQLITE_CONSTRAINT_CHECK);
  CAF_CHECK_EQUAL(failure_of("UPDATE invoices SET status = 'paid'"), SQLITE_CONSTRAINT_CHECK);
  CAF_CHECK_EQUAL(failure_of("UPDATE invoices SET status = 'paid', paid_at = 5, paid_via = 'lightning'"), 0);
  CAF_CHECK_EQUAL(failure_of("UPDATE invoices SET period_end = period_start"), SQLITE_CONSTRAINT_CHECK);
  CAF_CHECK_EQUAL(failure_of("UPDATE invoices SET bolt11 = 'lnbc1'"), SQLITE_CONSTRAINT_CHECK);
  // Items: one per relay, deleted with their invoice, referencing real relays.
  db->exec(relay_sql("r1", tenant_a, "relay-one"));
  auto item = [](const std::string& invoice, const std::string& relay, const std::string& segments) {
    return "INSERT INTO invoice_items (invoice, relay_id, subdomain, plan, active_seconds, active_hours, amount_sats, "
           "segments) VALUES ('" + invoice + "', '" + relay + "', 'relay-one', 'basic', 3600, 1, 7, " + segments + ")";
  };
  CAF_CHECK_EQUAL(failure_of(item("i1", "r1", "'[{\"plan\":\"basic\",\"active_seconds\":3600,\"amount_sats\":7}]'")), 0);
  CAF_CHECK_EQUAL(failure_of(item("i1", "r1", "NULL")), SQLITE_CONSTRAINT_PRIMARYKEY);
  CAF_CHECK(classify_sqlite_error(SQLITE_CONSTRAINT_PRIMARYKEY) == errc::conflict);
  CAF_CHECK_EQUAL(failure_of(item("i1", "nope", "NULL")), SQLITE_CONSTRAINT_FOREIGNKEY);
  CAF_CHECK_EQUAL(failure_of(item("i1", "r1", "'not json'")), SQLITE_CONSTRAINT_CHECK);
  CAF_CHECK_EQUAL(failure_of("INSERT INTO invoice_payment_hashes VALUES ('" + std::string(64, '0') +
                             "', 'i1', 'lnbc1', 1, 2)"),
                  0);
  db->exec("DELETE FROM invoices WHERE id = 'i1'");
  CAF_CHECK_EQUAL(count(*db, "SELECT count(*) FROM invoice_items"), 0);
  CAF_CHECK_EQUAL(count(*db, "SELECT count(*) FROM invoice_payment_hashes"), 0);
}

CAF_TEST(relay activity and audit log are append only) {
  open_migrated();
  add_tenant(tenant_a);
  db->exec(relay_sql("r1", tenant_a, "relay-one"));
  CAF_CHECK_EQUAL(failure_of("INSERT INTO relay_activity (relay, at, plan, active, status) "
                             "VALUES ('r1', 10, 'basic', 1, 'active')"),
                  0);
  CAF_CHECK_EQUAL(failure_of("UPDATE relay_activity SET at = 11"), SQLITE_CONSTRAINT_TRIGGER);
  CAF_CHECK_EQUAL(failure_of("DELETE FROM relay_activity"), SQLITE_CONSTRAINT_TRIGGER);
  CAF_CHECK_EQUAL(count(*db, "SELECT count(*) FROM relay_activity WHERE at = 10"), 1);
  // active is exactly "status is active" (billing.md).
  CAF_CHECK_EQUAL(failure_of("INSERT INTO relay_activity (relay, at, plan, active, status) "
                             "VALUES ('r1', 12, 'basic', 1, 'suspended')"),
                  SQLITE_CONSTRAINT_CHECK);
  CAF_CHECK_EQUAL(failure_of("INSERT INTO relay_activity (relay, at, plan, active, status) "
                             "VALUES ('nope', 12, 'basic', 0, 'inactive')"),
                  SQLITE_CONSTRAINT_FOREIGNKEY);

  auto audit = "INSERT INTO audit_log (at, admin, action, target_type, target_id, reason, before_json, after_json) "
               "VALUES (1, '" + tenant_b + "', 'tenant.suspend', 'tenant', '" + tenant_a +
               "', 'spam', '{\"status\":\"active\"}', '{\"status\":\"suspended\"}')";
  CAF_CHECK_EQUAL(failure_of(audit), 0);
  CAF_CHECK_EQUAL(failure_of("UPDATE audit_log SET reason = 'x'"), SQLITE_CONSTRAINT_TRIGGER);
  CAF_CHECK_EQUAL(failure_of("DELETE FROM audit_log"), SQLITE_CONSTRAINT_TRIGGER);
  CAF_CHECK_EQUAL(failure_of("INSERT INTO audit_log (at, admin, action, target_type, target_id, after_json) "
                             "VALUES (1, '" + tenant_b + "', 'x', 'tenant', 't', '{oops')"),
                  SQLITE_CONSTRAINT_CHECK);
}

CAF_TEST(the billing clock offset is stored once and never goes back) {
  open_migrated();
  CAF_CHECK_EQUAL(relayhost::storage::load_clock_offset(*db), 0);
  relayhost::storage::store_clock_offset(*db, 3600, 1);
  relayhost::storage::store_clock_offset(*db, 7200, 2);
  CAF_CHECK_EQUAL(relayhost::storage::load_clock_offset(*db), 7200);
  CAF_CHECK_EQUAL(count(*db, "SELECT count(*) FROM billing_clock"), 1);
  CAF_CHECK_EQUAL(failure_of("UPDATE billing_clock SET offset_seconds = 10"), SQLITE_CONSTRAINT_TRIGGER);
  CAF_CHECK_EQUAL(failure_of("INSERT INTO billing_clock VALUES (2, 5, 1)"), SQLITE_CONSTRAINT_CHECK);
  CAF_CHECK_EQUAL(failure_of("UPDATE billing_clock SET offset_seconds = -1"), SQLITE_CONSTRAINT_TRIGGER);
  CAF_CHECK_EQUAL(relayhost::storage::load_clock_offset(*db), 7200);
}

CAF_TEST(relay activity starts for relays that predate it) {
  // A database at version 1 with a relay, then upgraded: the relay's history begins.
  db = open();
  std::string error;
  std::vector<migration> v1(embedded_migrations().begin(), embedded_migrations().begin() + 1);
  CAF_REQUIRE(migrate(*db, v1, &error).has_value());
  add_tenant(tenant_a);
  db->exec(relay_sql("r1", tenant_a, "relay-one"));
  db->exec(relay_sql("r2", tenant_a, "relay-two"));
  db->exec("UPDATE relays SET status = 'inactive' WHERE id = 'r2'");
  CAF_REQUIRE(migrate(*db, embedded_migrations(), &error).has_value());
  CAF_CHECK_EQUAL(count(*db, "SELECT count(*) FROM relay_activity"), 2);
  CAF_CHECK_EQUAL(count(*db, "SELECT active FROM relay_activity WHERE relay = 'r1'"), 1);
  CAF_CHECK_EQUAL(count(*db, "SELECT active FROM relay_activity WHERE relay = 'r2'"), 0);
}

CAF_TEST(the indexes the API queries use exist) {
  open_migrated();
  for (auto index : {"tenants_by_status", "relays_by_tenant", "relays_by_status", "relays_not_synced",
                     "invoices_by_tenant", "invoices_by_status", "invoices_open_by_due", "relay_activity_by_relay",
                     "audit_log_by_target"})
    CHECK_MSG(count(*db, std::string("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = '") +
                                   index + "'") == 1,
                      "missing index " << index);
  // And the planner picks them for the paginated lists.
  auto plan = [&](const std::string& sql) {
    std::string out;
    SQLite::Statement q(*db, "EXPLAIN QUERY PLAN " + sql);
    while (q.executeStep())
      out += q.getColumn(3).getString() + "\n";
    return out;
  };
  CAF_CHECK_NOT_EQUAL(plan("SELECT * FROM relays WHERE tenant = 'x' AND seq > 5 ORDER BY seq LIMIT 50")
                        .find("relays_by_tenant"),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(plan("SELECT * FROM relays WHERE status = 'active' AND seq > 5 ORDER BY seq LIMIT 50")
                        .find("relays_by_status"),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(plan("SELECT * FROM relays WHERE sync_state <> 'synced' ORDER BY seq").find("relays_not_synced"),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(plan("SELECT * FROM invoices WHERE tenant = 'x' AND seq < 99 ORDER BY seq DESC LIMIT 20")
                        .find("invoices_by_tenant"),
                      std::string::npos);
}

// -- opening --------------------------------------------------------------------------

CAF_TEST(database urls) {
  std::string error;
  CAF_CHECK_EQUAL(database_path_from_url("sqlite://data/hosting.db", &error), "data/hosting.db");
  CAF_CHECK_EQUAL(database_path_from_url("sqlite:///var/lib/relayhost/hosting.db", &error),
                  "/var/lib/relayhost/hosting.db");
  CAF_CHECK_EQUAL(database_path_from_url("SQLITE://data/x.db", &error), "data/x.db");
  CAF_CHECK_EQUAL(database_path_from_url("data/hosting.db", &error), "data/hosting.db");
  CAF_CHECK_EQUAL(database_path_from_url("/abs/hosting.db", &error), "/abs/hosting.db");
  CAF_CHECK_EQUAL(database_path_from_url("./hosting.db", &error), "./hosting.db");
  CAF_CHECK_EQUAL(error, "");

  auto refused = [](std::string_view url, std::string_view expected_part) {
    std::string error;
    auto path = database_path_from_url(url, &error);
    CHECK_MSG(path.empty(), "accepted " << url);
    CHECK_MSG(error.find(expected_part) != std::string::npos, url << ": " << error);
    return error;
  };
  auto pg = refused("postgres://user:hunter2@db/hosting", "unsupported scheme \"postgres\"");
  CAF_CHECK_EQUAL(pg.find("hunter2"), std::string::npos);  // never echo credentials
  refused("mysql://x", "unsupported scheme");
  refused("", "empty");
  refused("sqlite://", "empty");
  refused("sqlite:data/x.db", "expected sqlite://path");
  refused("sqlite://data/x.db?mode=rwc", "query");
  refused(":memory:", "in-memory");
  refused("sqlite://:memory:", "in-memory");
  refused("sqlite://data/", "directory");
}

CAF_TEST(open creates the directory and configures the connection) {
  auto nested = (dir.path / "a" / "b" / "hosting.db").string();
  std::string error;
  auto conn = open_database(nested, &error);
  REQUIRE_MSG(conn != nullptr, error);
  CAF_CHECK(fs::is_directory(dir.path / "a" / "b"));
  CAF_CHECK(fs::exists(nested));
  CAF_CHECK_EQUAL(conn->execAndGet("PRAGMA journal_mode").getString(), "wal");
  CAF_CHECK_EQUAL(conn->execAndGet("PRAGMA foreign_keys").getInt(), 1);
  CAF_CHECK_EQUAL(conn->execAndGet("PRAGMA synchronous").getInt(), 1);  // NORMAL
  CAF_CHECK_EQUAL(conn->execAndGet("PRAGMA busy_timeout").getInt64(), static_cast<int64_t>(default_busy_timeout.count()));
}

CAF_TEST(open fails with a clear message) {
  std::string error;
  // The parent "directory" is a file.
  auto blocker = dir.path / "file";
  std::ofstream(blocker) << "x";
  CAF_CHECK(open_database((blocker / "hosting.db").string(), &error) == nullptr);
  CAF_CHECK_NOT_EQUAL(error.find("cannot create the database directory"), std::string::npos);
  // Not a database.
  auto junk = dir.path / "junk.db";
  std::ofstream(junk) << std::string(4096, 'j');
  error.clear();
  CAF_CHECK(open_database(junk.string(), &error) == nullptr);
  CAF_CHECK_NOT_EQUAL(error.find("cannot open the database"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(error.find("not a database"), std::string::npos);
  error.clear();
  CAF_CHECK(open_database("", &error) == nullptr);
  CAF_CHECK_NOT_EQUAL(error.find("empty"), std::string::npos);
}

CAF_TEST(sqlite errors map to api codes) {
  CAF_CHECK(classify_sqlite_error(SQLITE_CONSTRAINT_UNIQUE) == errc::conflict);
  CAF_CHECK(classify_sqlite_error(SQLITE_CONSTRAINT_PRIMARYKEY) == errc::conflict);
  CAF_CHECK(classify_sqlite_error(SQLITE_CONSTRAINT_CHECK) == errc::internal);
  CAF_CHECK(classify_sqlite_error(SQLITE_CONSTRAINT_FOREIGNKEY) == errc::internal);
  CAF_CHECK(classify_sqlite_error(SQLITE_CONSTRAINT_TRIGGER) == errc::internal);
  CAF_CHECK(classify_sqlite_error(SQLITE_BUSY) == errc::unavailable);
  CAF_CHECK(classify_sqlite_error(SQLITE_BUSY_SNAPSHOT) == errc::unavailable);
  CAF_CHECK(classify_sqlite_error(SQLITE_LOCKED) == errc::unavailable);
  // A disk that is full, failing or read-only: not saved, try again (503).
  CAF_CHECK(classify_sqlite_error(SQLITE_IOERR_WRITE) == errc::unavailable);
  CAF_CHECK(classify_sqlite_error(SQLITE_FULL) == errc::unavailable);
  CAF_CHECK(classify_sqlite_error(SQLITE_READONLY) == errc::unavailable);
  CAF_CHECK(classify_sqlite_error(SQLITE_MISUSE) == errc::internal);
  CAF_CHECK(std::string(public_message_for(SQLITE_FULL)).find("cannot write to its disk") != std::string::npos);
  CAF_CHECK(std::string(public_message_for(SQLITE_IOERR_WRITE)).find("not saved") != std::string::npos);
  CAF_CHECK_EQUAL(std::string(public_message_for(SQLITE_BUSY)), "the database is busy; try again");
}

CAF_TEST_FIXTURE_SCOPE_END()
