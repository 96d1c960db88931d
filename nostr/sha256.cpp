// SHA-256 through EVP with the SHA256 implementation fetched once: OpenSSL 3's
// one-shot SHA256() looks the algorithm up by name on every call, which costs
// more than hashing a small event.
#include "nostr/sha256.hpp"

#include "nostr/hex.hpp"

#include <openssl/evp.h>

#include <cstdlib>

namespace relayhost::nostr {
namespace {

const EVP_MD* sha256_md() {
  static const EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (fetched == nullptr)
      std::abort(); // no SHA-256 in libcrypto: nothing in relayhost can work
    return fetched;
  }();
  return md;
}

// One context per thread, reused: saves an allocation per hash.
struct md_ctx_holder {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~md_ctx_holder() { EVP_MD_CTX_free(ctx); }
};

} // namespace

sha256_digest sha256(const uint8_t* data, size_t len) {
  thread_local md_ctx_holder holder;
  sha256_digest out{};
  unsigned int out_len = 0;
  if (holder.ctx == nullptr || EVP_DigestInit_ex2(holder.ctx, sha256_md(), nullptr) != 1
      || EVP_DigestUpdate(holder.ctx, data, len) != 1
      || EVP_DigestFinal_ex(holder.ctx, out.data(), &out_len) != 1 || out_len != out.size())
    std::abort(); // only fails on allocation failure inside libcrypto
  return out;
}

sha256_digest sha256(std::string_view data) {
  return sha256(reinterpret_cast<const uint8_t*>(data.data()), data.size());
}

std::string sha256_hex(std::string_view data) {
  return to_hex(sha256(data));
}

} // namespace relayhost::nostr
