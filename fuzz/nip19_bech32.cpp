// NIP-19 / bech32: any text; what decodes encodes back to the same text (lower case).
#include <cctype>
#include <string>

#include "fuzz/fuzz_support.hpp"
#include "nostr/bech32.hpp"

using namespace relayhost;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = fuzz::text(data, size);
  auto d = nostr::bech32_decode(in);
  if (!d)
    return 0;
  std::string lower(in);
  for (auto& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  FUZZ_CHECK(nostr::bech32_encode(d->hrp, d->bytes.data(), d->bytes.size()) == lower);
  return 0;
}
