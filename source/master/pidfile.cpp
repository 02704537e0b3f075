#include "gthreadd/master/pidfile.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace gthreadd::master {

void Pidfile::create(const std::string& path, pid_t pid) {
  // Write to a temporary name and rename: a reader never sees a half-written file.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out)
      throw std::runtime_error("cannot write pidfile " + path + ": " + std::strerror(errno));
    out << pid << '\n';
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error("cannot write pidfile " + path + ": " + std::strerror(errno));
  path_ = path;
  pid_ = pid;
}

void Pidfile::rename(const std::string& path) {
  if (path_.empty()) return;
  if (std::rename(path_.c_str(), path.c_str()) == 0) path_ = path;
}

void Pidfile::unlink() noexcept {
  if (path_.empty()) return;
  std::ifstream in(path_);
  pid_t on_disk = 0;
  if (in >> on_disk && on_disk == pid_) ::unlink(path_.c_str());
  path_.clear();
}

}  // namespace gthreadd::master
