// NWC responses: any event JSON opened as the answer to a request (the checks on
// author, e tag, decryption and result_type), and any result object read as
// get_info, lookup_invoice and make_invoice answers.
#include "billing/invoicing.hpp"
#include "domain/wallet_check.hpp"
#include "fuzz/fuzz_support.hpp"
#include "nostr/event.hpp"
#include "nostr/nwc.hpp"

using namespace relayhost;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto wallet = fuzz::key(2).pubkey_hex();
  auto in = fuzz::text(data, size);
  if (auto ev = nostr::parse_event(in)) {
    std::string error;
    auto r = nostr::open_nwc_response(*ev, fuzz::key(1), wallet, std::string(64, 'a'), "pay_invoice", &error);
    FUZZ_CHECK(r.has_value() || !error.empty());
  }
  std::string text(in);
  (void) parse_get_info(text);
  auto l = nostr::normalize_lookup(text, std::string(64, 'b'));
  FUZZ_CHECK(l.preimage.empty() || nostr::preimage_matches(l.preimage, std::string(64, 'b')));
  std::string why;
  auto m = billing::parse_make_invoice(text, 5000000, 86400, &why);
  FUZZ_CHECK(m.has_value() || !why.empty());
  if (m)
    FUZZ_CHECK(m->payment_hash.size() == 64 && m->lifetime_seconds > 0);
  return 0;
}
