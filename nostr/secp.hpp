// The process's one libsecp256k1 context and the BIP-340 primitives built on it.
// The context is created on first use (thread-safe), randomized once for
// side-channel blinding, and never modified again, so every thread may use it
// concurrently. It is handed out const: nothing else may randomize or destroy it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

// Forward declaration identical to secp256k1.h, so this header stays light.
typedef struct secp256k1_context_struct secp256k1_context;

namespace relayhost::nostr {

/// The process-wide context (never null; aborts if libsecp256k1 cannot create one).
const secp256k1_context* secp_context();

/// Fills `out` from OpenSSL's CSPRNG (aborts if the CSPRNG fails: no key or
/// nonce may ever come from a broken generator).
void random_bytes(uint8_t* out, size_t len);

/// BIP-340 verify: x-only public key parse + schnorrsig_verify of a 32-byte message.
bool schnorr_verify(const uint8_t sig[64], const uint8_t msg32[32], const uint8_t xonly_pub[32]);

/// BIP-340 sign with explicit auxiliary randomness (tests use the BIP's vectors);
/// false when the secret key is invalid.
bool schnorr_sign(const uint8_t seckey[32], const uint8_t msg32[32], const uint8_t aux32[32],
                  uint8_t sig_out[64]);

/// BIP-340 sign with 32 fresh random aux bytes (what events use).
bool schnorr_sign(const uint8_t seckey[32], const uint8_t msg32[32], uint8_t sig_out[64]);

/// True when 0 < seckey < n.
bool seckey_valid(const uint8_t seckey[32]);

/// x-only public key of a valid secret key; false when the key is invalid.
bool xonly_pubkey_of(const uint8_t seckey[32], uint8_t xonly_out[32]);

/// True when the 32 bytes are the x coordinate of a curve point.
bool xonly_pubkey_valid(const uint8_t xonly_pub[32]);

/// ECDH as NIP-04 and NIP-44 use it: the bare x coordinate of seckey·P, where P
/// is the even-y point with x = `xonly_pub` (not libsecp's default hash). False
/// when the key or the point is invalid. The caller wipes `shared_x_out`.
bool ecdh_shared_x(const uint8_t seckey[32], const uint8_t xonly_pub[32], uint8_t shared_x_out[32]);

} // namespace relayhost::nostr
