#include "gthreadd/worker/path_glob.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace gthreadd::worker {
namespace {

namespace fs = std::filesystem;

// Python's glob.glob(pattern, recursive=True) on the same tree gives the same lists.
class PathGlobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("gthreadd-glob-" + std::to_string(::getpid()));
    for (const char* file :
         {"a.html", "b.txt", ".hidden.html", "ui/x/config.json", "ui/y/config.json",
          "ui/y/deep/z/config.json", "ui/.secret/config.json", "[lit].txt"}) {
      fs::create_directories((root_ / file).parent_path());
      std::ofstream(root_ / file) << "x";
    }
  }
  void TearDown() override { fs::remove_all(root_); }

  std::vector<std::string> glob(const std::string& pattern) const {
    auto found = expand_glob(root_.string() + "/" + pattern);
    for (auto& f : found) f = f.substr(root_.string().size() + 1);
    return found;
  }

  fs::path root_;
};

TEST_F(PathGlobTest, OnlyWildcardEntriesArePatterns) {
  EXPECT_TRUE(is_glob_pattern("ui/*/config.json"));
  EXPECT_TRUE(is_glob_pattern("a?.html"));
  EXPECT_TRUE(is_glob_pattern("[ab].html"));
  EXPECT_FALSE(is_glob_pattern("settings.py"));
}

TEST_F(PathGlobTest, StarMatchesOneComponentAndSkipsHiddenFiles) {
  EXPECT_EQ(glob("*.html"), (std::vector<std::string>{"a.html"}));
  EXPECT_EQ(glob("ui/*/config.json"),
            (std::vector<std::string>{"ui/x/config.json", "ui/y/config.json"}));
  EXPECT_EQ(glob(".*.html"), (std::vector<std::string>{".hidden.html"}));
}

TEST_F(PathGlobTest, DoubleStarRecursesThroughAnyDepthButNotHiddenDirectories) {
  EXPECT_EQ(glob("ui/**/config.json"),
            (std::vector<std::string>{"ui/x/config.json", "ui/y/config.json",
                                      "ui/y/deep/z/config.json"}));
  EXPECT_EQ(glob("**/*.json").size(), 3u);
}

TEST_F(PathGlobTest, BracketsAndQuestionMarks) {
  EXPECT_EQ(glob("[ab].*"), (std::vector<std::string>{"a.html", "b.txt"}));
  EXPECT_EQ(glob("?.txt"), (std::vector<std::string>{"b.txt"}));
}

TEST_F(PathGlobTest, APatternMatchingNothingIsEmpty) {
  EXPECT_TRUE(glob("nothing/*.json").empty());
  EXPECT_TRUE(glob("*.py").empty());
}

}  // namespace
}  // namespace gthreadd::worker
