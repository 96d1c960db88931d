// NIP-98: the Authorization header parser and verifier with any header, method
// line and body. Never crashes; a refusal always names its check.
#include "fuzz/fuzz_support.hpp"
#include "nostr/nip98.hpp"

using namespace relayhost;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static nostr::nip98_verifier verifier(60, 1024);
  auto [header, rest] = fuzz::split(fuzz::text(data, size));
  auto [method, body] = fuzz::split(rest);
  auto out = verifier.verify({header, method.empty() ? "GET" : method, "https://api.example/tenant", body},
                             1764000000);
  FUZZ_CHECK(out.ok || !out.error.empty());
  FUZZ_CHECK(!out.ok || out.pubkey.size() == 64);
  return 0;
}
