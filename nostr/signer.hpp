// A signer for one secret key that keeps what signing needs between calls: the
// key's secp256k1 keypair and its x-only public key. Deriving them costs two EC
// multiplications by the generator; a BIP-340 signature then needs only one more
// (the nonce point). Made once for a long-lived key (the platform key signing every
// zooid call), it saves ~30 µs per signature. Pure: no I/O.
#pragma once

#include <memory>
#include <string>

#include "nostr/event.hpp"

namespace relayhost::nostr {

class secret_key;

class signer {
public:
  /// Derives the keypair and public key once. The keypair holds the secret: it is
  /// wiped when the signer is destroyed, and a signer is never copied.
  explicit signer(const secret_key& key);
  ~signer();
  signer(const signer&) = delete;
  signer& operator=(const signer&) = delete;

  /// The x-only public key, 64 lowercase hex characters.
  const std::string& pubkey_hex() const { return pubkey_hex_; }

  /// Same contract as sign_event: sets pubkey, id and sig (fresh random aux);
  /// throws std::invalid_argument when the event could not be parsed back.
  /// Thread-safe (the keypair is only read).
  event sign(event unsigned_ev) const;

private:
  struct keypair;  // secp256k1_keypair, kept out of this header
  std::unique_ptr<keypair> keypair_;
  std::string pubkey_hex_;
};

} // namespace relayhost::nostr
