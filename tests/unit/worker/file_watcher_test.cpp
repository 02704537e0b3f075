#include "gthreadd/worker/file_watcher.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

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

}  // namespace
}  // namespace gthreadd::worker
