// The platform's Nostr key: PLATFORM_SECRET when set; otherwise generated once
// and kept in the database directory (mode 0600) so restarts keep the identity.
#pragma once

#include <optional>
#include <string>

#include "nostr/keys.hpp"

namespace relayhost {

struct platform_key_result {
  std::optional<nostr::secret_key> key;
  bool generated = false;   // a new key file was written this start
  std::string file;         // the key file used ("" when from PLATFORM_SECRET)
  std::string error;        // when !key: one line, never the secret
};

/// `configured_hex`: PLATFORM_SECRET as parsed by load_config (nullopt if unset).
/// `data_dir`: the database's directory (created already).
platform_key_result load_platform_key(const std::optional<std::string>& configured_hex,
                                      const std::string& data_dir);

} // namespace relayhost
