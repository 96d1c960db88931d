// Test support: a migrated SQLite database in a fresh temporary directory,
// removed when the object goes.
#pragma once

#include <memory>
#include <string>

namespace SQLite {
class Database;
}

namespace relayhost::test {

class temp_db {
public:
  temp_db();
  ~temp_db();
  temp_db(const temp_db&) = delete;
  temp_db& operator=(const temp_db&) = delete;

  const std::string& dir() const { return dir_; }
  const std::string& path() const { return path_; }

  /// A new, migrated connection to the database.
  std::unique_ptr<SQLite::Database> open() const;

private:
  std::string dir_;
  std::string path_;
};

} // namespace relayhost::test
