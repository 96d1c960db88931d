#include "http/request_id.hpp"

#include <cstdio>
#include <random>

namespace relayhost::http {

request_id_generator::request_id_generator() : prefix_(std::random_device{}()) {}

std::string request_id_generator::next() {
  auto n = counter_.fetch_add(1, std::memory_order_relaxed) + 1;
  char buf[32];
  int len = std::snprintf(buf, sizeof buf, "%08x-%llx", static_cast<unsigned>(prefix_),
                          static_cast<unsigned long long>(n));
  return std::string(buf, static_cast<size_t>(len));
}

} // namespace relayhost::http
