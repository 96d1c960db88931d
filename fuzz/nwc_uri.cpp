// The NWC connection URI parser: any text; a refusal says why, an accepted URI has
// a 64-hex wallet key and at least one websocket relay.
#include "fuzz/fuzz_support.hpp"
#include "nostr/nwc_uri.hpp"

using namespace relayhost;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string why;
  auto uri = nostr::parse_nwc_uri(fuzz::text(data, size), &why);
  FUZZ_CHECK(uri.has_value() || !why.empty());
  if (uri) {
    FUZZ_CHECK(uri->wallet_pubkey.size() == 64);
    FUZZ_CHECK(!uri->relays.empty());
    for (auto& r : uri->relays)
      FUZZ_CHECK(nostr::is_websocket_url(r));
  }
  return 0;
}
