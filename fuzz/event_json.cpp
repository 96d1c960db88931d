// Event JSON: any text; what parses serialises back to JSON that parses to the
// same event (same id), and checking it never crashes.
#include "fuzz/fuzz_support.hpp"
#include "nostr/event.hpp"

using namespace relayhost;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto ev = nostr::parse_event(fuzz::text(data, size));
  if (!ev)
    return 0;
  (void) nostr::verify_event(*ev);
  auto again = nostr::parse_event(nostr::to_json(*ev));
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(nostr::compute_id(*again) == nostr::compute_id(*ev));
  return 0;
}
