// NIP-44 v2 decryption of any payload under a fixed conversation key: refused or
// decrypted, never a crash; what decrypts encrypts back to the same length class.
#include "fuzz/fuzz_support.hpp"
#include "nostr/nip44.hpp"

using namespace relayhost;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto key = *nostr::nip44_get_conversation_key(fuzz::key(1), fuzz::key(2).pubkey_hex());
  auto plain = nostr::nip44_decrypt(fuzz::text(data, size), key);
  if (plain)
    FUZZ_CHECK(nostr::nip44_decrypt(nostr::nip44_encrypt(*plain, key), key) == plain);
  return 0;
}
