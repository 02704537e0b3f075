#pragma once
// --reload: watches the app's source files (every module file the interpreter loaded, plus
// --reload-extra-file) with inotify. The event loop polls its fd; a change makes the worker
// exit gracefully and the master start a fresh one (gunicorn's reloader, without a thread).
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "gthreadd/core/unique_fd.hpp"

namespace gthreadd::worker {

class FileWatcher {
 public:
  // Throws std::runtime_error if inotify is unavailable.
  explicit FileWatcher(const std::vector<std::string>& files);
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  // Reads pending events; returns the first watched file that changed, or "" if none did.
  std::string changed_file();

 private:
  core::UniqueFd fd_;
  std::unordered_map<int, std::string> dirs_;  // watch descriptor → directory
  std::set<std::string> files_;                // absolute paths
};

}  // namespace gthreadd::worker
