// What a failed storage operation means to the API. A write's `apply` or a read's `run`
// either succeeds, throws `rejected` (a deliberate refusal with an API code), or fails
// in SQLite; the storage actor turns each into the reply of that operation alone.
// Pure: no actors.
#pragma once

#include <stdexcept>
#include <string>

#include "core/errc.hpp"

namespace relayhost::storage {

/// Thrown by a write's `apply` (or a read's `run`) to answer with an API error, e.g. a
/// conditional update that finds the invoice no longer open (`conflict`), or a lookup
/// that finds nothing (`not_found`). A write's changes are rolled back. The requester
/// gets exactly this code and message, so the message must be fit for a client
/// (api.md: never internals, never secrets).
class rejected : public std::runtime_error {
public:
  rejected(errc code, const std::string& message) : std::runtime_error(message), code_(code) {}

  errc code() const noexcept { return code_; }

private:
  errc code_;
};

/// The API code of a failed SQLite call, from its extended result code:
/// UNIQUE / PRIMARY KEY violations are `conflict` (409: e.g. a subdomain taken in a
/// race, a second invoice for a period), a database locked by another connection
/// (BUSY / LOCKED) or a disk that is full, failing or read-only (FULL / IOERR /
/// READONLY) is `unavailable` (503: not saved, try again), everything else `internal`.
errc classify_sqlite_error(int extended_code) noexcept;

/// The client-facing message that goes with a classified SQLite failure (no internals).
const char* public_message(errc code) noexcept;

/// The message for one SQLite failure: a full, failing or read-only disk says so
/// (still `unavailable`: the change was not saved and may be retried), others as
/// public_message of their class.
const char* public_message_for(int extended_code) noexcept;

} // namespace relayhost::storage
