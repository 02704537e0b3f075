#pragma once
// --reload: watches the app's source files (every module file the interpreter loaded, plus
// --reload-extra-file) with inotify, or, with --reload-engine poll, by comparing each file's
// modification time once a second as gunicorn's polling Reloader does (for file systems that
// deliver no inotify events: network mounts, some container bind mounts). Either way the
// event loop polls fd() (the inotify fd, or an eventfd the poll thread signals); a change makes the
// worker exit gracefully and the master start a fresh one. Modules imported later (a Django view at
// its first request) are added by rescan_every(), a small thread of the watcher's own:
// gunicorn 24.1's reloader re-scans sys.modules the same way. An entry with '*', '?' or '['
// is a glob pattern (gunicorn 26.1), expanded at start and again at every rescan, so a file
// created later is watched from then on.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "gthreadd/core/unique_fd.hpp"

namespace gthreadd::worker {

enum class WatchEngine { Inotify, Poll };

class FileWatcher {
 public:
  // Throws std::runtime_error if inotify (or, for Poll, an eventfd) is unavailable.
  explicit FileWatcher(const std::vector<std::string>& files,
                       WatchEngine engine = WatchEngine::Inotify);
  ~FileWatcher();
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  // Reads pending events; returns the first watched file that changed, or "" if none did.
  // Loop thread only.
  std::string changed_file();
  // Adds files (and watches on their directories); glob patterns are kept and expanded.
  // Safe from any thread.
  void watch(const std::vector<std::string>& files);
  // Starts a thread that calls `scan` every `period` and watches what it returns (files
  // already watched are skipped), and expands the glob patterns again. `scan` may return
  // nothing when nothing new was imported.
  void rescan_every(std::chrono::milliseconds period,
                    std::function<std::vector<std::string>()> scan);
  [[nodiscard]] bool watches(const std::string& file) const;

 private:
  void watch_files(const std::vector<std::string>& files);  // mutex_ held
  [[nodiscard]] std::vector<std::string> expand_patterns() const;
  std::string read_inotify();
  void poll_every(std::chrono::milliseconds period);  // starts poll_thread_
  void poll_once();                                   // poll thread only

  WatchEngine engine_;

  core::UniqueFd fd_;
  mutable std::mutex mutex_;                   // the maps: watch() runs on the rescan thread
  std::unordered_map<int, std::string> dirs_;  // watch descriptor → directory
  std::set<std::string> watched_dirs_;
  std::set<std::string> files_;        // absolute paths
  std::vector<std::string> patterns_;  // glob patterns, re-expanded by the rescan
  // Poll engine: each file's modification time (ns; -1 = absent) when first seen, and the
  // first file seen changed, which changed_file() hands to the loop.
  std::map<std::string, long long> mtimes_;
  std::string poll_changed_;

  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread rescan_thread_;
  std::thread poll_thread_;
};

}  // namespace gthreadd::worker
