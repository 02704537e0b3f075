#pragma once
// -p/--pid: written once the master listens, removed when it exits (only if it still holds
// our pid, so a successor's file is never deleted — gunicorn's Pidfile.unlink rule).
#include <sys/types.h>
#include <string>

namespace gthreadd::master {

class Pidfile {
 public:
  Pidfile() = default;
  // Throws std::runtime_error naming the path when it cannot be written.
  void create(const std::string& path, pid_t pid);
  void rename(const std::string& path);  // USR2 dance: <pidfile>.2 promoted
  void unlink() noexcept;
  ~Pidfile() { unlink(); }
  Pidfile(const Pidfile&) = delete;
  Pidfile& operator=(const Pidfile&) = delete;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  pid_t pid_ = 0;
};

}  // namespace gthreadd::master
