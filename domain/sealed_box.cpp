#include "domain/sealed_box.hpp"

#include <memory>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

namespace relayhost {

namespace {

constexpr uint8_t box_version = 1;
constexpr size_t nonce_len = 12;
constexpr size_t tag_len = 16;
constexpr std::string_view hkdf_salt = "relayhost";
constexpr std::string_view hkdf_info = "relayhost at-rest v1";

using ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

// AES-256-GCM fetched from the provider once. With EVP_aes_256_gcm() OpenSSL 3
// fetches the implementation by name (locks, a property query) on every init. The
// fetched cipher is immutable and shared by all threads; it lives until exit.
const EVP_CIPHER* aes_256_gcm() {
  static const EVP_CIPHER* cipher = [] {
    const EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return c ? c : EVP_aes_256_gcm();
  }();
  return cipher;
}

} // namespace

sealed_box::sealed_box(const std::array<uint8_t, 32>& platform_secret) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> pctx(
    EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr), EVP_PKEY_CTX_free);
  size_t out_len = key_.size();
  if (!pctx || EVP_PKEY_derive_init(pctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_hkdf_md(pctx.get(), EVP_sha256()) <= 0 ||
      EVP_PKEY_CTX_set1_hkdf_salt(pctx.get(), reinterpret_cast<const unsigned char*>(hkdf_salt.data()),
                                  static_cast<int>(hkdf_salt.size())) <= 0 ||
      EVP_PKEY_CTX_set1_hkdf_key(pctx.get(), platform_secret.data(), static_cast<int>(platform_secret.size())) <= 0 ||
      EVP_PKEY_CTX_add1_hkdf_info(pctx.get(), reinterpret_cast<const unsigned char*>(hkdf_info.data()),
                                  static_cast<int>(hkdf_info.size())) <= 0 ||
      EVP_PKEY_derive(pctx.get(), key_.data(), &out_len) <= 0 || out_len != key_.size())
    throw std::runtime_error("sealed_box: key derivation failed");
}

sealed_box::~sealed_box() {
  OPENSSL_cleanse(key_.data(), key_.size());
}

std::vector<uint8_t> sealed_box::seal(std::string_view plaintext, std::string_view associated) const {
  std::vector<uint8_t> out(1 + nonce_len + plaintext.size() + tag_len);
  out[0] = box_version;
  uint8_t* nonce = out.data() + 1;
  uint8_t* ct = nonce + nonce_len;
  if (RAND_bytes(nonce, static_cast<int>(nonce_len)) != 1)
    throw std::runtime_error("sealed_box: no randomness");
  ctx_ptr ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), aes_256_gcm(), nullptr, key_.data(), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(associated.data()),
                        static_cast<int>(associated.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), ct, &len, reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), ct + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_len),
                          ct + plaintext.size()) != 1)
    throw std::runtime_error("sealed_box: encryption failed");
  return out;
}

std::optional<std::string> sealed_box::open(const std::vector<uint8_t>& blob, std::string_view associated) const {
  if (blob.size() < 1 + nonce_len + tag_len || blob[0] != box_version)
    return std::nullopt;
  const uint8_t* nonce = blob.data() + 1;
  const uint8_t* ct = nonce + nonce_len;
  size_t ct_len = blob.size() - 1 - nonce_len - tag_len;
  std::string out(ct_len, '\0');
  ctx_ptr ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  std::array<uint8_t, tag_len> tag;
  std::copy(ct + ct_len, ct + ct_len + tag_len, tag.begin());
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), aes_256_gcm(), nullptr, key_.data(), nonce) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(associated.data()),
                        static_cast<int>(associated.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, ct,
                        static_cast<int>(ct_len)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_len), tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &len) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return std::nullopt;
  }
  return out;
}

} // namespace relayhost
