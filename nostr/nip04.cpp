// NIP-04 over libsecp256k1 (ECDH, bare x) and OpenSSL (AES-256-CBC, PKCS#7).
#include "nostr/nip04.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

#include "nostr/base64.hpp"
#include "nostr/hex.hpp"
#include "nostr/keys.hpp"
#include "nostr/secp.hpp"

namespace relayhost::nostr {

namespace {

constexpr size_t max_payload_chars = 1 << 20;
constexpr std::string_view iv_marker = "?iv=";

/// The AES key: the bare shared x (NIP-04 does not hash it). Wiped on destruction.
struct shared_key {
  uint8_t bytes[32];
  ~shared_key() { OPENSSL_cleanse(bytes, sizeof bytes); }
};

bool derive(const secret_key& own, std::string_view peer_hex, shared_key& k) {
  uint8_t peer[32];
  return from_hex(peer_hex, peer, sizeof peer) && ecdh_shared_x(own.bytes().data(), peer, k.bytes);
}

using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

std::optional<std::string> fail(std::string* error, const char* why) {
  if (error)
    *error = why;
  return std::nullopt;
}

} // namespace

std::string nip04_encrypt(const secret_key& own, std::string_view peer_pubkey_hex, std::string_view plaintext,
                          const unsigned char iv16[16]) {
  shared_key k;
  if (!derive(own, peer_pubkey_hex, k))
    throw std::invalid_argument("nip04: the peer's public key is not a valid x-only key");
  cipher_ctx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string out(plaintext.size() + 16, '\0');
  int n1 = 0, n2 = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, k.bytes, iv16) != 1 ||
      EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n1,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n1, &n2) != 1)
    throw std::runtime_error("nip04: AES-256-CBC failed");
  out.resize(static_cast<size_t>(n1 + n2));
  return base64_encode(out) + std::string(iv_marker) + base64_encode(iv16, 16);
}

std::string nip04_encrypt(const secret_key& own, std::string_view peer_pubkey_hex, std::string_view plaintext) {
  if (plaintext.size() > max_payload_chars)
    throw std::invalid_argument("nip04: plaintext too long");
  unsigned char iv[16];
  random_bytes(iv, sizeof iv);
  return nip04_encrypt(own, peer_pubkey_hex, plaintext, iv);
}

std::optional<std::string> nip04_decrypt(const secret_key& own, std::string_view peer_pubkey_hex,
                                         std::string_view payload, std::string* error) {
  if (payload.size() > max_payload_chars)
    return fail(error, "payload longer than 1 MiB");
  auto at = payload.find(iv_marker);
  if (at == std::string_view::npos)
    return fail(error, "no ?iv= in the payload");
  std::string ct, iv;
  if (!base64_decode(payload.substr(0, at), ct))
    return fail(error, "ciphertext is not valid base64");
  if (!base64_decode(payload.substr(at + iv_marker.size()), iv))
    return fail(error, "iv is not valid base64");
  if (iv.size() != 16)
    return fail(error, "iv is not 16 bytes");
  if (ct.empty() || ct.size() % 16 != 0)
    return fail(error, "ciphertext is not a positive multiple of 16 bytes");
  shared_key k;
  if (!derive(own, peer_pubkey_hex, k))
    return fail(error, "invalid key");
  cipher_ctx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string out(ct.size() + 16, '\0');
  int n1 = 0, n2 = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, k.bytes,
                         reinterpret_cast<const unsigned char*>(iv.data())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n1,
                        reinterpret_cast<const unsigned char*>(ct.data()), static_cast<int>(ct.size())) != 1)
    return fail(error, "decryption failed");
  if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n1, &n2) != 1)
    return fail(error, "bad padding (wrong key or corrupt ciphertext)");
  out.resize(static_cast<size_t>(n1 + n2));
  return out;
}

} // namespace relayhost::nostr
