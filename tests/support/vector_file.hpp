// Reads one of the official vector files in tests/vectors/ (see its README.md)
// and proves it is the published file: a missing, truncated or edited copy
// throws, so a suite fails loudly instead of checking fewer cases.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "nostr/sha256.hpp"

namespace relayhost::test {

inline std::string read_vector_file(const std::string& name, const std::string& expected_sha256) {
  std::string path = std::string(RELAYHOST_VECTORS_DIR) + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("vector file missing: " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  auto text = buf.str();
  auto got = nostr::sha256_hex(text);
  if (got != expected_sha256)
    throw std::runtime_error("vector file " + path + " has sha256 " + got + ", expected " + expected_sha256);
  return text;
}

} // namespace relayhost::test
