#include "nostr/signer.hpp"

#include <stdexcept>

#include <openssl/crypto.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include "nostr/hex.hpp"
#include "nostr/keys.hpp"
#include "nostr/secp.hpp"

namespace relayhost::nostr {

struct signer::keypair {
  secp256k1_keypair kp;
  ~keypair() { OPENSSL_cleanse(&kp, sizeof kp); }
};

signer::signer(const secret_key& key) : keypair_(std::make_unique<keypair>()) {
  const secp256k1_context* ctx = secp_context();
  secp256k1_xonly_pubkey pub;
  uint8_t xonly[32];
  // secret_key guarantees 0 < k < n, so neither call can fail.
  if (secp256k1_keypair_create(ctx, &keypair_->kp, key.bytes().data()) != 1 ||
      secp256k1_keypair_xonly_pub(ctx, &pub, nullptr, &keypair_->kp) != 1 ||
      secp256k1_xonly_pubkey_serialize(ctx, xonly, &pub) != 1)
    throw std::logic_error("signer: cannot derive the keypair of a valid secret key");
  pubkey_hex_ = to_hex(xonly, sizeof xonly);
}

signer::~signer() = default;

event signer::sign(event ev) const {
  // What parse_event would refuse must not be signed (verifiers could not read it back).
  if (ev.created_at < 0 || ev.created_at > event_max_created_at)
    throw std::invalid_argument("event created_at out of range [0, 2^53)");
  if (ev.kind < 0 || ev.kind > event_max_kind)
    throw std::invalid_argument("event kind out of range [0, 65535]");
  ev.pubkey = pubkey_hex_;
  const auto id = compute_id_bytes(ev);  // throws std::invalid_argument on invalid UTF-8
  uint8_t aux[32], sig[64];
  random_bytes(aux, sizeof aux);
  if (secp256k1_schnorrsig_sign32(secp_context(), sig, id.data(), &keypair_->kp, aux) != 1)
    throw std::logic_error("signing failed with a valid keypair");
  ev.id = to_hex(id);
  ev.sig = to_hex(sig, sizeof sig);
  return ev;
}

} // namespace relayhost::nostr
