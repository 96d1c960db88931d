// libsecp256k1 wrapper: the one context (see secp.hpp) and BIP-340 helpers.
#include "nostr/secp.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_ecdh.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include <cstdlib>
#include <cstring>

namespace relayhost::nostr {
namespace {

// Wipes a keypair (it holds the secret key) when it leaves scope.
struct keypair_guard {
  secp256k1_keypair kp;
  ~keypair_guard() { OPENSSL_cleanse(&kp, sizeof kp); }
};

} // namespace

const secp256k1_context* secp_context() {
  // A function-local static is initialised exactly once, even under concurrent
  // first calls; afterwards the context is read-only.
  static const secp256k1_context* ctx = [] {
    secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (c == nullptr)
      std::abort();
    uint8_t seed[32];
    random_bytes(seed, sizeof seed);
    if (secp256k1_context_randomize(c, seed) != 1)
      std::abort();
    OPENSSL_cleanse(seed, sizeof seed);
    return c;
  }();
  return ctx;
}

void random_bytes(uint8_t* out, size_t len) {
  if (len > 0 && RAND_bytes(out, static_cast<int>(len)) != 1)
    std::abort();
}

bool schnorr_verify(const uint8_t sig[64], const uint8_t msg32[32], const uint8_t xonly_pub[32]) {
  const secp256k1_context* ctx = secp_context();
  secp256k1_xonly_pubkey pub;
  if (secp256k1_xonly_pubkey_parse(ctx, &pub, xonly_pub) != 1)
    return false;
  return secp256k1_schnorrsig_verify(ctx, sig, msg32, 32, &pub) == 1;
}

bool schnorr_sign(const uint8_t seckey[32], const uint8_t msg32[32], const uint8_t aux32[32],
                  uint8_t sig_out[64]) {
  const secp256k1_context* ctx = secp_context();
  keypair_guard g;
  if (secp256k1_keypair_create(ctx, &g.kp, seckey) != 1)
    return false;
  return secp256k1_schnorrsig_sign32(ctx, sig_out, msg32, &g.kp, aux32) == 1;
}

bool schnorr_sign(const uint8_t seckey[32], const uint8_t msg32[32], uint8_t sig_out[64]) {
  uint8_t aux[32];
  random_bytes(aux, sizeof aux);
  return schnorr_sign(seckey, msg32, aux, sig_out);
}

bool seckey_valid(const uint8_t seckey[32]) {
  return secp256k1_ec_seckey_verify(secp_context(), seckey) == 1;
}

bool xonly_pubkey_of(const uint8_t seckey[32], uint8_t xonly_out[32]) {
  const secp256k1_context* ctx = secp_context();
  keypair_guard g;
  if (secp256k1_keypair_create(ctx, &g.kp, seckey) != 1)
    return false;
  secp256k1_xonly_pubkey pub;
  if (secp256k1_keypair_xonly_pub(ctx, &pub, nullptr, &g.kp) != 1)
    return false;
  return secp256k1_xonly_pubkey_serialize(ctx, xonly_out, &pub) == 1;
}

bool xonly_pubkey_valid(const uint8_t xonly_pub[32]) {
  secp256k1_xonly_pubkey pub;
  return secp256k1_xonly_pubkey_parse(secp_context(), &pub, xonly_pub) == 1;
}

namespace {
int copy_x(unsigned char* output, const unsigned char* x32, const unsigned char*, void*) {
  std::memcpy(output, x32, 32);
  return 1;
}
} // namespace

bool ecdh_shared_x(const uint8_t seckey[32], const uint8_t xonly_pub[32], uint8_t shared_x_out[32]) {
  const secp256k1_context* ctx = secp_context();
  uint8_t compressed[33];
  compressed[0] = 0x02;
  std::memcpy(compressed + 1, xonly_pub, 32);
  secp256k1_pubkey pub;
  if (secp256k1_ec_pubkey_parse(ctx, &pub, compressed, sizeof compressed) != 1)
    return false;
  return secp256k1_ecdh(ctx, shared_x_out, &pub, seckey, copy_x, nullptr) == 1;
}

} // namespace relayhost::nostr
