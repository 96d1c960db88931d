#include "tests/support/temp_db.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <SQLiteCpp/Database.h>

#include "storage/database.hpp"
#include "storage/migrations.hpp"

namespace relayhost::test {

temp_db::temp_db() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "relayhost-unit-XXXXXX").string();
  if (!mkdtemp(tmpl.data()))
    throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  path_ = dir_ + "/hosting.db";
  auto db = open();  // creates and migrates
}

temp_db::~temp_db() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::unique_ptr<SQLite::Database> temp_db::open() const {
  std::string error;
  auto db = storage::open_database(path_, &error);
  if (!db)
    throw std::runtime_error("open_database: " + error);
  if (!storage::migrate(*db, storage::embedded_migrations(), &error))
    throw std::runtime_error("migrate: " + error);
  return db;
}

} // namespace relayhost::test
