#include "gthreadd/metrics/process_memory.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "gthreadd/core/unique_fd.hpp"

namespace gthreadd::metrics {

std::int64_t resident_bytes(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/statm";
  core::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return -1;
  char text[128];
  const ssize_t n = ::read(fd.get(), text, sizeof text - 1);
  if (n <= 0) return -1;
  text[n] = '\0';
  char* end = nullptr;
  std::strtoull(text, &end, 10);                                  // size
  const unsigned long long pages = std::strtoull(end, &end, 10);  // resident
  if (end == text) return -1;
  return static_cast<std::int64_t>(pages) * ::sysconf(_SC_PAGESIZE);
}

}  // namespace gthreadd::metrics
