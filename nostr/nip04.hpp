// NIP-04 encryption (older NWC wallets): AES-256-CBC with PKCS#7 padding, key =
// the unhashed x coordinate of the shared point, content "base64(ct)?iv=base64(iv)".
// Deprecated for DMs (NIP-17 replaces it) and used here only for NIP-47. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace relayhost::nostr {

class secret_key;

/// Encrypts with a fresh random IV. Throws std::invalid_argument when
/// `peer_pubkey_hex` is not a valid x-only public key.
std::string nip04_encrypt(const secret_key& own, std::string_view peer_pubkey_hex, std::string_view plaintext);
/// Same with a given 16-byte IV (tests only).
std::string nip04_encrypt(const secret_key& own, std::string_view peer_pubkey_hex, std::string_view plaintext,
                          const unsigned char iv16[16]);

/// Decrypts; nullopt for a malformed payload (no "?iv=", bad base64, IV not 16
/// bytes, ciphertext not a positive multiple of 16), a bad key or bad padding;
/// `error` gets which. Payloads over 1 MiB are rejected before any work.
std::optional<std::string> nip04_decrypt(const secret_key& own, std::string_view peer_pubkey_hex,
                                         std::string_view payload, std::string* error = nullptr);

} // namespace relayhost::nostr
