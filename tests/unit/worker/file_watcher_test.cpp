#include "gthreadd/worker/file_watcher.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

namespace gthreadd::worker {
namespace {

class FileWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gthreadd-watch-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    watched_ = (dir_ / "app.py").string();
    other_ = (dir_ / "notes.txt").string();
    std::ofstream(watched_) << "x = 1\n";
    std::ofstream(other_) << "a\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Waits (generously) for the watcher's fd to become readable, then asks what changed.
  static std::string wait_change(FileWatcher& w) {
    pollfd p{w.fd(), POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return "";
    return w.changed_file();
  }

  std::filesystem::path dir_;
  std::string watched_, other_;
};

TEST_F(FileWatcherTest, ReportsAWrittenWatchedFile) {
  FileWatcher w({watched_});
  std::ofstream(watched_) << "x = 2\n";
  EXPECT_EQ(wait_change(w), watched_);
}

TEST_F(FileWatcherTest, ReportsAFileReplacedByRenameAsEditorsSave) {
  FileWatcher w({watched_});
  const std::string tmp = (dir_ / ".app.py.swp").string();
  std::ofstream(tmp) << "x = 3\n";
  ASSERT_EQ(std::rename(tmp.c_str(), watched_.c_str()), 0);
  std::string changed;
  for (int i = 0; i < 3 && changed.empty(); ++i) changed = wait_change(w);
  EXPECT_EQ(changed, watched_);
}

TEST_F(FileWatcherTest, IgnoresOtherFilesInTheSameDirectory) {
  FileWatcher w({watched_});
  std::ofstream(other_) << "b\n";
  EXPECT_EQ(wait_change(w), "");
}

// --reload-engine poll (gunicorn's polling Reloader): a changed modification time is a
// change, even with no write inotify would report; other files and unchanged ones are not.
TEST_F(FileWatcherTest, PollEngineReportsAChangedModificationTime) {
  FileWatcher w({watched_, other_}, WatchEngine::Poll);
  const auto later = std::filesystem::last_write_time(watched_) + std::chrono::seconds(10);
  std::filesystem::last_write_time(watched_, later);
  EXPECT_EQ(wait_change(w), watched_);
}

TEST_F(FileWatcherTest, PollEngineIgnoresUnwatchedFilesAndReportsADeletedOne) {
  FileWatcher w({watched_}, WatchEngine::Poll);
  std::ofstream(other_) << "b\n";
  pollfd p{w.fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 2500), 0);  // two poll periods: nothing watched changed
  std::filesystem::remove(watched_);
  EXPECT_EQ(wait_change(w), watched_);
}

// --reload and lazily imported modules (issue 10): a file added after construction, in a
// directory not watched before, is reported.
TEST_F(FileWatcherTest, WatchesFilesAddedLaterInNewDirectories) {
  FileWatcher w({watched_});
  const auto views = dir_ / "views";
  std::filesystem::create_directories(views);
  const std::string view = (views / "index.py").string();
  std::ofstream(view) << "x = 1\n";
  w.watch({view});
  EXPECT_TRUE(w.watches(view));
  std::ofstream(view) << "x = 2\n";
  EXPECT_EQ(wait_change(w), view);
}

// The rescan thread calls the scanner periodically and watches what it returns.
TEST_F(FileWatcherTest, RescanAddsWhatTheScannerFinds) {
  FileWatcher w({watched_});
  std::atomic<int> calls{0};
  w.rescan_every(std::chrono::milliseconds(10), [&] {
    ++calls;
    return std::vector<std::string>{other_};
  });
  for (int i = 0; i < 500 && !w.watches(other_); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(w.watches(other_));
  EXPECT_GE(calls.load(), 1);
  std::ofstream(other_) << "c\n";
  EXPECT_EQ(wait_change(w), other_);
}

}  // namespace
}  // namespace gthreadd::worker
