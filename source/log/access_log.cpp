#include "gthreadd/log/access_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <sys/uio.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace gthreadd::log {
namespace {

std::mutex g_registry_mutex;
std::vector<AccessLog*> g_registry;

core::UniqueFd open_append(const std::string& path) {
  return core::UniqueFd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
}

// One writev per line: with O_APPEND the kernel places it whole, even with several
// processes writing the same file. A short write (full disk, pipe) finishes with plain writes.
void write_all(int fd, std::string_view line) {
  iovec parts[2] = {{const_cast<char*>(line.data()), line.size()}, {const_cast<char*>("\n"), 1}};
  ssize_t written;
  do {
    written = ::writev(fd, parts, 2);
  } while (written < 0 && errno == EINTR);
  if (written < 0) return;  // nowhere better to report a failing access log
  std::size_t done = static_cast<std::size_t>(written);
  std::string rest = std::string(line) + "\n";
  while (done < rest.size()) {
    const ssize_t n = ::write(fd, rest.data() + done, rest.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

AccessLog::AccessLog(const std::string& path, std::string_view format)
    : path_(path), format_(format) {
  if (path_ != "-") {
    file_ = open_append(path_);
    if (!file_) {
      throw std::runtime_error("cannot open access log '" + path_ + "': " + std::strerror(errno));
    }
    fd_ = file_.get();
  }
  std::lock_guard lock(g_registry_mutex);
  g_registry.push_back(this);
}

AccessLog::~AccessLog() {
  std::lock_guard lock(g_registry_mutex);
  g_registry.erase(std::remove(g_registry.begin(), g_registry.end(), this), g_registry.end());
}

void AccessLog::log(const AccessRecord& record) {
  thread_local std::string line;
  format_.format(record, line);
  write_all(fd_, line);
}

void AccessLog::write_line(std::string_view line) { write_all(fd_, line); }

// dup2 onto the same number: threads writing concurrently never see a closed descriptor.
bool AccessLog::reopen() {
  if (!file_) return true;
  core::UniqueFd fresh = open_append(path_);
  if (!fresh) return false;
  return ::dup3(fresh.get(), fd_, O_CLOEXEC) >= 0;
}

void reopen_access_logs() {
  std::lock_guard lock(g_registry_mutex);
  for (auto* log : g_registry) log->reopen();
}

}  // namespace gthreadd::log
