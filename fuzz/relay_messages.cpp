// What Nostr relays send (EVENT, OK, EOSE, CLOSED, NOTICE, AUTH, anything else) and
// the relay URLs relayhost normalises.
#include "fuzz/fuzz_support.hpp"
#include "nostr/relay_message.hpp"
#include "nostr/relay_url.hpp"

using namespace relayhost;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = fuzz::text(data, size);
  (void) nostr::parse_relay_message(in);
  (void) nostr::machine_prefix(in);
  if (auto url = nostr::parse_relay_url(in)) {
    auto again = nostr::parse_relay_url(url->normalized);
    FUZZ_CHECK(again && again->normalized == url->normalized);  // normalising is idempotent
  }
  return 0;
}
