// NIP-59 gift wrap → seal → NIP-17 rumor, from any event JSON, for a fixed recipient.
#include "fuzz/fuzz_support.hpp"
#include "nostr/event.hpp"
#include "nostr/nip59.hpp"

using namespace relayhost;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto ev = nostr::parse_event(fuzz::text(data, size));
  if (!ev)
    return 0;
  std::string error;
  auto dm = nostr::unwrap_dm(*ev, fuzz::key(1), &error);
  FUZZ_CHECK(dm.has_value() || !error.empty());
  return 0;
}
