// NIP-04 decryption of any payload ("<base64>?iv=<base64>") between fixed keys.
#include "fuzz/fuzz_support.hpp"
#include "nostr/nip04.hpp"

using namespace relayhost;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto peer = fuzz::key(2).pubkey_hex();
  auto plain = nostr::nip04_decrypt(fuzz::key(1), peer, fuzz::text(data, size));
  if (plain)
    FUZZ_CHECK(nostr::nip04_decrypt(fuzz::key(1), peer, nostr::nip04_encrypt(fuzz::key(1), peer, *plain)) == plain);
  return 0;
}
