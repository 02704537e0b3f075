#include "gthreadd/worker/heartbeat.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace gthreadd::worker {

std::string default_worker_tmp_dir() {
  // A tmpfs keeps the once-a-second touch off the disk (gunicorn's docs warn about this).
  struct stat st {};
  if (::stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && ::access("/dev/shm", W_OK) == 0)
    return "/dev/shm";
  return "/tmp";
}

Heartbeat::Heartbeat(const std::string& dir) {
  const std::string base = dir.empty() ? default_worker_tmp_dir() : dir;
  std::string path = base + "/gthreadd-heartbeat-XXXXXX";
  int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error("cannot create a heartbeat file in --worker-tmp-dir " + base + ": " +
                             std::strerror(errno));
  ::unlink(path.c_str());
  fd_.reset(fd);
  mark_booting();
}

void Heartbeat::beat() const noexcept { ::futimens(fd_.get(), nullptr); }

void Heartbeat::beat_since(std::chrono::nanoseconds ago) const noexcept {
  if (ago <= std::chrono::nanoseconds::zero()) return beat();
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const auto at = std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec) - ago;
  const auto sec = std::chrono::floor<std::chrono::seconds>(at);
  const timespec times[2] = {{sec.count(), (at - sec).count()}, {sec.count(), (at - sec).count()}};
  ::futimens(fd_.get(), times);
}

void Heartbeat::mark_booting() const noexcept {
  const timespec epoch[2] = {{0, 0}, {0, 0}};
  ::futimens(fd_.get(), epoch);
}

bool Heartbeat::booting() const noexcept {
  struct stat st {};
  return ::fstat(fd_.get(), &st) == 0 && st.st_mtim.tv_sec == 0;
}

// A byte in the file is the flag: the worker may write to it after dropping privileges,
// while changing its mode would need ownership.
void Heartbeat::request_retirement() const noexcept {
  [[maybe_unused]] auto n = ::pwrite(fd_.get(), "R", 1, 0);
}

bool Heartbeat::retirement_requested() const noexcept {
  struct stat st {};
  return ::fstat(fd_.get(), &st) == 0 && st.st_size > 0;
}

double Heartbeat::seconds_since_beat() const noexcept {
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) return 0;
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<double>(now.tv_sec - st.st_mtim.tv_sec) +
         static_cast<double>(now.tv_nsec - st.st_mtim.tv_nsec) / 1e9;
}

}  // namespace gthreadd::worker
