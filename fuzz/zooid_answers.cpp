// zooid's answers: any status and body, for each method relayhost calls.
#include "domain/zooid_config.hpp"
#include "fuzz/fuzz_support.hpp"

using namespace relayhost;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2)
    return 0;
  int status = 100 + (data[0] * 256 + data[1]) % 500;
  auto body = fuzz::text(data + 2, size - 2);
  for (auto method : {"GET", "POST", "PATCH", "DELETE"})
    (void) classify_zooid_answer(method, status, body);
  auto text = zooid_error_text(status, body, "");
  FUZZ_CHECK(text.size() < 4096);  // bounded, whatever zooid sends
  return 0;
}
