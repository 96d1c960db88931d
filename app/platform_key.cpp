#include "app/platform_key.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace relayhost {

namespace {

constexpr const char* key_file_name = "platform.key";

std::string read_small_file(int fd) {
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && out.size() < 4096)
    out.append(buf, static_cast<size_t>(n));
  return out;
}

} // namespace

platform_key_result load_platform_key(const std::optional<std::string>& configured_hex,
                                      const std::string& data_dir) {
  platform_key_result r;
  if (configured_hex) {
    r.key = nostr::secret_key::from_hex(*configured_hex);
    if (!r.key)
      r.error = "PLATFORM_SECRET: not a valid secret key";
    return r;
  }
  r.file = (data_dir.empty() ? std::string(".") : data_dir) + "/" + key_file_name;
  int fd = ::open(r.file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0) {
    struct stat st{};
    if (::fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
      ::close(fd);
      r.error = "PLATFORM_SECRET: key file " + r.file +
                " is readable by group or others; fix with: chmod 600 " + r.file;
      return r;
    }
    auto text = read_small_file(fd);
    ::close(fd);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
      text.pop_back();
    r.key = nostr::secret_key::from_hex(text);
    if (!r.key)
      r.error = "PLATFORM_SECRET: key file " + r.file + " does not hold a 64-hex secret key";
    return r;
  }
  if (errno != ENOENT) {
    r.error = "PLATFORM_SECRET: cannot read key file " + r.file + ": " + std::strerror(errno);
    return r;
  }
  // O_EXCL: two processes starting at once cannot both write a key.
  fd = ::open(r.file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    r.error = "PLATFORM_SECRET: cannot create key file " + r.file + ": " + std::strerror(errno);
    return r;
  }
  auto key = nostr::secret_key::generate();
  auto text = key.hex() + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  std::fill(text.begin(), text.end(), '\0');
  if (!ok) {
    ::unlink(r.file.c_str());
    r.error = "PLATFORM_SECRET: cannot write key file " + r.file;
    return r;
  }
  r.key = std::move(key);
  r.generated = true;
  return r;
}

} // namespace relayhost
