#include "gthreadd/worker/file_watcher.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace gthreadd::worker {

FileWatcher::FileWatcher(const std::vector<std::string>& files)
    : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
  if (!fd_) throw std::runtime_error(std::string("--reload: inotify: ") + std::strerror(errno));
  // Directories, not files: editors save by writing a new file and renaming it over the
  // old one, which a watch on the old inode would miss.
  std::set<std::string> dirs;
  for (const auto& f : files) {
    std::error_code ec;
    auto abs = std::filesystem::absolute(f, ec);
    if (ec) continue;
    files_.insert(abs.lexically_normal().string());
    dirs.insert(abs.parent_path().lexically_normal().string());
  }
  for (const auto& d : dirs) {
    int wd = ::inotify_add_watch(fd_.get(), d.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE);
    if (wd >= 0) dirs_[wd] = d;
  }
}

std::string FileWatcher::changed_file() {
  alignas(inotify_event) char buf[16384];
  std::string changed;
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n <= 0) break;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      if (ev->len == 0 || !changed.empty()) continue;
      auto dir = dirs_.find(ev->wd);
      if (dir == dirs_.end()) continue;
      std::string path = dir->second + "/" + ev->name;
      if (files_.count(path)) changed = path;
    }
  }
  return changed;
}

}  // namespace gthreadd::worker
