// Every row of the official BIP-340 test vectors: verification must give the
// expected result, and rows with a secret key must reproduce the signature
// exactly from the given aux_rand.
#define CAF_SUITE nostr_bip340
#include <caf/test/unit_test.hpp>

#include "nostr/hex.hpp"
#include "nostr/secp.hpp"
#include "tests/support/vector_file.hpp"

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace relayhost::nostr;

namespace {

struct bip340_row {
  std::string index, seckey, pubkey, aux, msg, sig;
  bool expected = false;
  std::string comment;
};

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<uint8_t> bytes(const std::string& hex) {
  std::vector<uint8_t> out(hex.size() / 2);
  if (!from_hex(lower(hex), out.data(), out.size()))
    throw std::runtime_error("bad hex in vector file");
  return out;
}

std::vector<bip340_row> load_vectors() {
  std::istringstream in(relayhost::test::read_vector_file(
    "bip340-test-vectors.csv", "34c9d1d9c3a88d524bc80778540dc43f8306ec249a7485293063c376db851c2d"));
  std::vector<bip340_row> rows;
  std::string line;
  std::getline(in, line); // header
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty())
      continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    for (int i = 0; i < 7 && std::getline(ss, col, ','); ++i)
      cols.push_back(col);
    std::getline(ss, col); // the comment may itself contain commas
    cols.resize(7);
    bip340_row r;
    r.index = cols[0];
    r.seckey = cols[1];
    r.pubkey = cols[2];
    r.aux = cols[3];
    r.msg = cols[4];
    r.sig = cols[5];
    r.expected = cols[6] == "TRUE";
    r.comment = col;
    rows.push_back(r);
  }
  return rows;
}

} // namespace

CAF_TEST(all rows verify as expected) {
  const auto rows = load_vectors();
  CAF_REQUIRE_EQUAL(rows.size(), 19u);
  const secp256k1_context* ctx = secp_context();
  int true_rows = 0;
  for (const auto& r : rows) {
    CAF_MESSAGE("vector " << r.index << " " << r.comment);
    const auto pub = bytes(r.pubkey);
    const auto msg = bytes(r.msg);
    const auto sig = bytes(r.sig);
    CAF_REQUIRE_EQUAL(pub.size(), 32u);
    CAF_REQUIRE_EQUAL(sig.size(), 64u);
    secp256k1_xonly_pubkey xonly;
    bool ok = secp256k1_xonly_pubkey_parse(ctx, &xonly, pub.data()) == 1
              && secp256k1_schnorrsig_verify(ctx, sig.data(), msg.data(), msg.size(), &xonly) == 1;
    CAF_CHECK_EQUAL(ok, r.expected);
    // Our wrapper takes the 32-byte messages events use.
    if (msg.size() == 32)
      CAF_CHECK_EQUAL(schnorr_verify(sig.data(), msg.data(), pub.data()), r.expected);
    true_rows += r.expected ? 1 : 0;
  }
  CAF_CHECK_EQUAL(true_rows, 9); // 0-4 and 15-18
}

CAF_TEST(rows with a secret key reproduce the signature) {
  const secp256k1_context* ctx = secp_context();
  int signed_rows = 0;
  for (const auto& r : load_vectors()) {
    if (r.seckey.empty())
      continue;
    CAF_MESSAGE("vector " << r.index);
    const auto sk = bytes(r.seckey);
    const auto aux = bytes(r.aux);
    const auto msg = bytes(r.msg);
    const auto expected = bytes(r.sig);
    secp256k1_keypair kp;
    CAF_REQUIRE(secp256k1_keypair_create(ctx, &kp, sk.data()) == 1);
    secp256k1_xonly_pubkey xonly;
    uint8_t pub[32];
    CAF_REQUIRE(secp256k1_keypair_xonly_pub(ctx, &xonly, nullptr, &kp) == 1);
    CAF_REQUIRE(secp256k1_xonly_pubkey_serialize(ctx, pub, &xonly) == 1);
    CAF_CHECK_EQUAL(to_hex(pub, 32), lower(r.pubkey));
    uint8_t sig[64];
    if (msg.size() == 32) {
      CAF_REQUIRE(secp256k1_schnorrsig_sign32(ctx, sig, msg.data(), &kp, aux.data()) == 1);
      CAF_CHECK_EQUAL(to_hex(sig, 64), lower(r.sig));
      // The wrapper with explicit aux gives the same bytes.
      uint8_t sig2[64];
      CAF_REQUIRE(schnorr_sign(sk.data(), msg.data(), aux.data(), sig2));
      CAF_CHECK_EQUAL(to_hex(sig2, 64), lower(r.sig));
    } else {
      // Rows 15-18 sign messages of other lengths (BIP-340 errata 2022-12).
      secp256k1_schnorrsig_extraparams extra = SECP256K1_SCHNORRSIG_EXTRAPARAMS_INIT;
      extra.ndata = const_cast<uint8_t*>(aux.data());
      CAF_REQUIRE(secp256k1_schnorrsig_sign_custom(ctx, sig, msg.data(), msg.size(), &kp, &extra) == 1);
      CAF_CHECK_EQUAL(to_hex(sig, 64), lower(r.sig));
    }
    CAF_CHECK(std::equal(sig, sig + 64, expected.begin()));
    ++signed_rows;
  }
  CAF_CHECK_EQUAL(signed_rows, 8);
}

CAF_TEST(fresh aux signatures differ but verify) {
  const auto sk = bytes("b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef");
  const auto pk = bytes("dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659");
  const auto msg = bytes("243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89");
  uint8_t s1[64], s2[64];
  CAF_REQUIRE(schnorr_sign(sk.data(), msg.data(), s1));
  CAF_REQUIRE(schnorr_sign(sk.data(), msg.data(), s2));
  CAF_CHECK(!std::equal(s1, s1 + 64, s2));
  CAF_CHECK(schnorr_verify(s1, msg.data(), pk.data()));
  CAF_CHECK(schnorr_verify(s2, msg.data(), pk.data()));
  s1[10] ^= 1;
  CAF_CHECK(!schnorr_verify(s1, msg.data(), pk.data()));
}
