#include "gthreadd/worker/file_watcher.hpp"

#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "gthreadd/worker/path_glob.hpp"

namespace gthreadd::worker {

namespace {

// The file's modification time in nanoseconds, or -1 when it cannot be stat'ed (deleted, or
// not yet created): a file that appears or disappears counts as changed, as with inotify.
long long mtime_ns(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000LL + st.st_mtim.tv_nsec;
}

// gunicorn's polling Reloader checks once a second (its `interval`).
constexpr std::chrono::milliseconds kPollPeriod{1000};

}  // namespace

FileWatcher::FileWatcher(const std::vector<std::string>& files, WatchEngine engine)
    : engine_(engine),
      fd_(engine == WatchEngine::Poll ? ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)
                                      : ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
  if (!fd_)
    throw std::runtime_error(std::string("--reload: ") +
                             (engine == WatchEngine::Poll ? "eventfd: " : "inotify: ") +
                             std::strerror(errno));
  watch(files);
  if (engine_ == WatchEngine::Poll) poll_every(kPollPeriod);
}

FileWatcher::~FileWatcher() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (rescan_thread_.joinable()) rescan_thread_.join();
  if (poll_thread_.joinable()) poll_thread_.join();
}

void FileWatcher::watch(const std::vector<std::string>& files) {
  std::vector<std::string> plain;
  std::vector<std::string> expanded;
  std::lock_guard lock(mutex_);
  for (const auto& f : files) {
    std::error_code exists_ec;  // a module file whose path happens to contain '[' is a file
    if (!is_glob_pattern(f) || std::filesystem::exists(f, exists_ec)) {
      plain.push_back(f);
      continue;
    }
    if (std::find(patterns_.begin(), patterns_.end(), f) != patterns_.end()) continue;
    patterns_.push_back(f);
    auto found = expand_glob(f);
    // gunicorn 26.1 warns rather than failing: the pattern may match a file created later.
    if (found.empty()) spdlog::warn("reload_extra_files: pattern '{}' matches no file yet", f);
    expanded.insert(expanded.end(), found.begin(), found.end());
  }
  watch_files(plain);
  watch_files(expanded);
}

std::vector<std::string> FileWatcher::expand_patterns() const {
  std::vector<std::string> patterns;
  {
    std::lock_guard lock(mutex_);
    patterns = patterns_;
  }
  std::vector<std::string> found;
  for (const auto& pattern : patterns) {
    auto more = expand_glob(pattern);
    found.insert(found.end(), more.begin(), more.end());
  }
  return found;
}

void FileWatcher::watch_files(const std::vector<std::string>& files) {
  for (const auto& f : files) {
    std::error_code ec;
    auto abs = std::filesystem::absolute(f, ec);
    if (ec) continue;
    const std::string path = abs.lexically_normal().string();
    if (!files_.insert(path).second) continue;
    if (engine_ == WatchEngine::Poll) {
      mtimes_.emplace(path, mtime_ns(path));
      continue;
    }
    // Directories, not files: editors save by writing a new file and renaming it over the
    // old one, which a watch on the old inode would miss.
    const std::string dir = abs.parent_path().lexically_normal().string();
    if (!watched_dirs_.insert(dir).second) continue;
    int wd = ::inotify_add_watch(fd_.get(), dir.c_str(),
                                 IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE);
    if (wd >= 0) dirs_[wd] = dir;
  }
}

bool FileWatcher::watches(const std::string& file) const {
  std::error_code ec;
  auto abs = std::filesystem::absolute(file, ec);
  std::lock_guard lock(mutex_);
  return !ec && files_.count(abs.lexically_normal().string()) > 0;
}

void FileWatcher::rescan_every(std::chrono::milliseconds period,
                               std::function<std::vector<std::string>()> scan) {
  rescan_thread_ = std::thread([this, period, scan = std::move(scan)] {
    std::unique_lock lock(stop_mutex_);
    while (!stop_cv_.wait_for(lock, period, [this] { return stopping_; })) {
      lock.unlock();
      auto files = scan();
      auto matched = expand_patterns();
      files.insert(files.end(), matched.begin(), matched.end());
      if (!files.empty()) watch(files);
      lock.lock();
    }
  });
}

void FileWatcher::poll_every(std::chrono::milliseconds period) {
  poll_thread_ = std::thread([this, period] {
    std::unique_lock lock(stop_mutex_);
    while (!stop_cv_.wait_for(lock, period, [this] { return stopping_; })) {
      lock.unlock();
      poll_once();
      lock.lock();
    }
  });
}

void FileWatcher::poll_once() {
  std::map<std::string, long long> known;
  {
    std::lock_guard lock(mutex_);
    if (!poll_changed_.empty()) return;  // reported already; the worker is on its way out
    known = mtimes_;
  }
  // stat() outside the lock: a slow network mount must not block watch() or the loop.
  for (const auto& [path, seen] : known) {
    if (mtime_ns(path) == seen) continue;
    {
      std::lock_guard lock(mutex_);
      poll_changed_ = path;
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(fd_.get(), &one, sizeof one);
    return;
  }
}

std::string FileWatcher::changed_file() {
  if (engine_ == WatchEngine::Inotify) return read_inotify();
  std::uint64_t count = 0;
  [[maybe_unused]] auto n = ::read(fd_.get(), &count, sizeof count);
  std::lock_guard lock(mutex_);
  return poll_changed_;
}

std::string FileWatcher::read_inotify() {
  alignas(inotify_event) char buf[16384];
  std::string changed;
  std::lock_guard lock(mutex_);
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
