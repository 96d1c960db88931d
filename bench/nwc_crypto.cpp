// What one NIP-47 round trip costs relayhost in CPU before any I/O: building the
// request (conversation key, encryption, id, Schnorr signature) and opening the
// answer (id and signature check, conversation key, decryption, JSON), with the
// library's own functions, for nip44_v2 and for NIP-04. This is the floor under
// the client's CPU per round trip that bench/nwc_roundtrip.mjs measures.
//
//   bench_nwc_crypto [N=2000] [rounds=5]     (pin it: taskset -c 1 ...)
#include "nostr/event.hpp"
#include "nostr/keys.hpp"
#include "nostr/nip04.hpp"
#include "nostr/nip44.hpp"
#include "nostr/nwc.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

using namespace relayhost::nostr;
using bench_clock = std::chrono::steady_clock;

namespace {

const std::string get_info_result =
  R"({"result_type":"get_info","error":null,"result":{"alias":"bench","color":"#ff9900","network":"regtest",)"
  R"("block_height":1,"block_hash":"00","methods":["get_info","make_invoice","lookup_invoice","pay_invoice"]}})";

event wallet_answer(const secret_key& wallet, const secret_key& client, const event& request, nwc_encryption enc,
                    int64_t now) {
  event ev;
  ev.kind = kind_nwc_response;
  ev.created_at = now;
  ev.tags = {{"e", request.id}, {"p", client.pubkey_hex()}};
  if (enc == nwc_encryption::nip44_v2)
    ev.content = nip44_encrypt(get_info_result, *nip44_get_conversation_key(wallet, client.pubkey_hex()));
  else
    ev.content = nip04_encrypt(wallet, client.pubkey_hex(), get_info_result);
  return sign_event(std::move(ev), wallet);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
  size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 2000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  auto client = secret_key::generate();
  auto wallet = secret_key::generate();
  auto wallet_pk = wallet.pubkey_hex();
  int64_t now = std::time(nullptr);

  std::printf("NIP-47 crypto per round trip, %zu round trips x %d rounds (median), one thread\n", n, rounds);
  std::printf("%-9s %14s %14s %14s %16s\n", "scheme", "request us", "response us", "total us", "round trips/s");
  for (auto enc : {nwc_encryption::nip44_v2, nwc_encryption::nip04}) {
    std::vector<double> req_us, resp_us;
    for (int r = 0; r < rounds; ++r) {
      std::vector<event> requests;
      requests.reserve(n);
      auto t0 = bench_clock::now();
      for (size_t i = 0; i < n; ++i)
        requests.push_back(make_nwc_request(client, wallet_pk, "get_info", "{}", enc, now, now + 60));
      auto t1 = bench_clock::now();
      std::vector<event> answers;
      answers.reserve(n);
      for (auto& q : requests)
        answers.push_back(wallet_answer(wallet, client, q, enc, now));
      size_t opened = 0;
      auto t2 = bench_clock::now();
      for (size_t i = 0; i < n; ++i)
        opened += open_nwc_response(answers[i], client, wallet_pk, requests[i].id, "get_info").has_value();
      auto t3 = bench_clock::now();
      if (opened != n)
        throw std::runtime_error("a response did not open: the bench is measuring the wrong thing");
      req_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / static_cast<double>(n));
      resp_us.push_back(std::chrono::duration<double, std::micro>(t3 - t2).count() / static_cast<double>(n));
    }
    double q = median(req_us), a = median(resp_us);
    std::printf("%-9s %14.1f %14.1f %14.1f %16.0f\n", to_string(enc), q, a, q + a, 1e6 / (q + a));
  }
  return 0;
}
