#include "storage/database.hpp"

#include <cctype>
#include <filesystem>
#include <system_error>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <sqlite3.h>

namespace relayhost::storage {

namespace {

constexpr std::string_view sqlite_scheme = "sqlite";

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
bool is_scheme(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0])))
    return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.')
      return false;
  return true;
}

} // namespace

std::string database_path_from_url(std::string_view url, std::string* error) {
  auto fail = [&](std::string message) {
    if (error)
      *error = std::move(message);
    return std::string{};
  };
  std::string_view path = url;
  if (auto sep = url.find("://"); sep != std::string_view::npos && is_scheme(url.substr(0, sep))) {
    auto scheme = url.substr(0, sep);
    if (!iequals(scheme, sqlite_scheme))
      return fail("unsupported scheme \"" + std::string(scheme) +
                  "\" (expected sqlite://path, sqlite:///absolute/path or a plain path)");
    path = url.substr(sep + 3);
    // A query would otherwise become part of the file name ("hosting.db?mode=rwc").
    if (path.find_first_of("?#") != std::string_view::npos)
      return fail("query parameters and fragments are not supported in sqlite:// URLs");
  } else if (url.size() > sqlite_scheme.size() && iequals(url.substr(0, sqlite_scheme.size()), sqlite_scheme) &&
             url[sqlite_scheme.size()] == ':') {
    // "sqlite:data/x.db" is a typo for sqlite://, not a file named "sqlite:data/x.db".
    return fail("expected sqlite://path, sqlite:///absolute/path or a plain path");
  }
  if (path.empty())
    return fail("the database path is empty");
  if (path == ":memory:")
    return fail("an in-memory database would lose every tenant at exit; give a file path");
  if (path.back() == '/')
    return fail("the database path names a directory; give a file path");
  return std::string(path);
}

std::unique_ptr<SQLite::Database> open_database(const std::string& path, std::string* error) {
  auto fail = [&](std::string message) {
    if (error)
      *error = std::move(message);
    return std::unique_ptr<SQLite::Database>{};
  };
  if (path.empty())
    return fail("the database path is empty");
  if (sqlite3_libversion_number() < minimum_sqlite_version)
    return fail(std::string("SQLite ") + sqlite3_libversion() + " is too old: relayhost needs " +
                minimum_sqlite_version_text + " or newer");

  // DATABASE_URL's directory is created (mkdir -p), as architecture.md promises.
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec)
      return fail("cannot create the database directory \"" + parent.string() + "\": " + ec.message());
  }

  try {
    auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE,
                                                 static_cast<int>(default_busy_timeout.count()));
    // WAL: readers never block the writer and a commit is one append to the log.
    auto mode = db->execAndGet("PRAGMA journal_mode=WAL").getString();
    if (mode != "wal")
      return fail("cannot use WAL journal mode on \"" + path + "\" (SQLite kept \"" + mode +
                  "\"); put the database on a local file system");
    // Off by default in SQLite and silently ignored inside a transaction: verify it took.
    db->exec("PRAGMA foreign_keys=ON");
    if (db->execAndGet("PRAGMA foreign_keys").getInt() != 1)
      return fail("cannot enable foreign key enforcement on \"" + path + "\"");
    // In WAL mode, synchronous=NORMAL makes every committed transaction durable across a
    // crash of the process (kill -9, abort, OOM kill): the commit is in the WAL file, in
    // the kernel's page cache, before COMMIT returns. Only an OS crash or power loss can
    // lose the last transactions before a checkpoint (never corrupting the database).
    // Durability across process crashes is what relayhost promises; FULL would fsync on
    // every commit for the power-loss case.
    db->exec("PRAGMA synchronous=NORMAL");
    return db;
  } catch (const SQLite::Exception& e) {
    return fail("cannot open the database \"" + path + "\": " + e.what());
  }
}

} // namespace relayhost::storage
