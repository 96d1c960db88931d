// What the fuzz targets share: the input as text, fixed keys, and a check that
// aborts (a crash libFuzzer reports) when an invariant does not hold.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "nostr/keys.hpp"

namespace relayhost::fuzz {

inline std::string_view text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// A fixed secret key (the same bytes every run, so crashes reproduce).
inline const nostr::secret_key& key(uint8_t fill) {
  static const nostr::secret_key keys[] = {
    *nostr::secret_key::from_hex("0000000000000000000000000000000000000000000000000000000000000001"),
    *nostr::secret_key::from_hex("7c8a9d1e5f4b3a2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c"),
    *nostr::secret_key::from_hex("a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"),
  };
  return keys[fill % 3];
}

/// Splits the input at the first byte `sep` (the rest empty when there is none).
inline std::pair<std::string_view, std::string_view> split(std::string_view in, char sep = '\n') {
  auto at = in.find(sep);
  if (at == std::string_view::npos)
    return {in, {}};
  return {in.substr(0, at), in.substr(at + 1)};
}

} // namespace relayhost::fuzz

#define FUZZ_CHECK(cond)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                        \
    }                                                                      \
  } while (false)
