#include "storage/errors.hpp"

#include <sqlite3.h>

namespace relayhost::storage {

errc classify_sqlite_error(int extended_code) noexcept {
  switch (extended_code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return errc::conflict;
    default:
      break;
  }
  switch (extended_code & 0xff) {  // the primary result code
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:      // the disk (or a file-size limit) is full
    case SQLITE_IOERR:     // the disk failed a read or write
    case SQLITE_READONLY:  // the file or its directory was made read-only
      return errc::unavailable;
    default:
      return errc::internal;
  }
}

const char* public_message_for(int extended_code) noexcept {
  switch (extended_code & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
      return "the server cannot write to its disk; the change was not saved; try again later";
    default:
      return public_message(classify_sqlite_error(extended_code));
  }
}

const char* public_message(errc code) noexcept {
  switch (code) {
    case errc::conflict: return "conflicts with an existing record";
    case errc::unavailable: return "the database is busy; try again";
    default: return "internal error";
  }
}

} // namespace relayhost::storage
