// The router and percent-decoding of any method and path: a match, or one of
// not-found / method-not-allowed / invalid-field, never a crash.
#include "fuzz/fuzz_support.hpp"
#include "http/api_types.hpp"
#include "http/router.hpp"

using namespace relayhost;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const http::router r = [] {
    http::router out;
    auto none = [](http::api_request&&, http::responder) {};
    for (auto* t : {"/tenant", "/tenant/relays", "/tenant/relays/:id", "/admin/tenants/:pubkey",
                    "/admin/tenants/:pubkey/message", "/admin/invoices/:id"})
      for (auto* m : {"GET", "PUT", "DELETE"})
        out.add(m, t, http::auth_mode::nip98, none);
    return out;
  }();
  auto [method, path] = fuzz::split(fuzz::text(data, size));
  auto m = r.match(method, path);
  FUZZ_CHECK((m.matched != nullptr) != m.error.has_value());
  (void) http::percent_decode(path);
  return 0;
}
