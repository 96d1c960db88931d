// What signing one NIP-98 token costs the zooid client actor (one per relay pushed
// to zooid): nostr::nip98_authorization as it is, against a prototype that keeps
// the platform key's secp256k1 keypair and hex pubkey from one call to the next.
// Today sign_event derives the public key (one EC multiplication by the generator)
// and schnorr_sign creates the keypair again (a second one) before BIP-340 signing
// (the third: the nonce point); with the keypair kept, only the nonce point is left.
// The prototype's tokens are checked with nip98_verifier before timing.
//
//   bench_nip98_sign [--iterations 2000] [--rounds 7]
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "nostr/base64.hpp"
#include "nostr/event.hpp"
#include "nostr/hex.hpp"
#include "nostr/keys.hpp"
#include "nostr/nip98.hpp"
#include "nostr/secp.hpp"
#include "nostr/sha256.hpp"

using namespace relayhost;
using clock_type = std::chrono::steady_clock;

namespace {

// The prototype: a signer that derived its keypair and pubkey once.
class cached_signer {
public:
  explicit cached_signer(const nostr::secret_key& key) : pubkey_hex_(key.pubkey_hex()) {
    if (secp256k1_keypair_create(nostr::secp_context(), &keypair_, key.bytes().data()) != 1)
      std::abort();
  }

  std::string authorization(std::string_view url, std::string_view method, std::string_view body,
                            int64_t created_at) const {
    nostr::event ev;
    ev.kind = 27235;
    ev.created_at = created_at;
    ev.tags = {{"u", std::string(url)}, {"method", std::string(method)}, {"payload", nostr::sha256_hex(body)}};
    ev.pubkey = pubkey_hex_;
    auto id = nostr::compute_id_bytes(ev);
    uint8_t aux[32], sig[64];
    nostr::random_bytes(aux, sizeof aux);
    if (secp256k1_schnorrsig_sign32(nostr::secp_context(), sig, id.data(), &keypair_, aux) != 1)
      std::abort();
    ev.id = nostr::to_hex(id);
    ev.sig = nostr::to_hex(sig, sizeof sig);
    return "Nostr " + nostr::base64_encode(nostr::to_json(ev));
  }

private:
  std::string pubkey_hex_;
  secp256k1_keypair keypair_{};
};

} // namespace

int main(int argc, char** argv) {
  size_t iterations = 2000, rounds = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--iterations") iterations = std::stoul(argv[i + 1]);
    else if (a == "--rounds") rounds = std::stoul(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: bench_nip98_sign [--iterations N] [--rounds N]\n");
      return 2;
    }
  }
  auto key = nostr::secret_key::generate();
  const std::string url = "http://127.0.0.1:8032/relay/5a000000000000000000000000000010";
  const std::string body = R"({"id":"5a000000000000000000000000000010","host":"bench.spaces.coracle.social",)"
                           R"("schema":"bench","secret":"00000000000000000000000000000000000000000000000000000000)"
                           R"(00000000","info":{"name":"n"},"policy":{"public_join":false}})";
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  cached_signer signer{key};
  {
    // Same event, same id: one verifier each, or the second is a replay.
    nostr::nip98_verifier verifier_a{60}, verifier_b{60};
    auto a = nostr::nip98_authorization(key, url, "POST", body, now);
    auto b = signer.authorization(url, "POST", body, now);
    auto va = verifier_a.verify({a, "POST", url, body}, now), vb = verifier_b.verify({b, "POST", url, body}, now);
    if (!va.ok || !vb.ok) {
      std::fprintf(stderr, "a token does not verify: [%s] [%s]\n", va.error.c_str(), vb.error.c_str());
      return 1;
    }
  }
  double best_a = 1e99, best_b = 1e99;
  size_t sink = 0;
  for (size_t r = 0; r < rounds; ++r) {
    auto t0 = clock_type::now();
    for (size_t i = 0; i < iterations; ++i)
      sink += nostr::nip98_authorization(key, url, "POST", body, now).size();
    auto t1 = clock_type::now();
    for (size_t i = 0; i < iterations; ++i)
      sink += signer.authorization(url, "POST", body, now).size();
    auto t2 = clock_type::now();
    best_a = std::min(best_a, std::chrono::duration<double, std::micro>(t1 - t0).count() / iterations);
    best_b = std::min(best_b, std::chrono::duration<double, std::micro>(t2 - t1).count() / iterations);
  }
  std::printf("NIP-98 token for a zooid push, best of %zu rounds × %zu: nip98_authorization %.1f us; "
              "with the keypair and pubkey kept %.1f us (%.1fx); both verify%s\n",
              rounds, iterations, best_a, best_b, best_a / best_b, sink ? "" : " ");
  return 0;
}
