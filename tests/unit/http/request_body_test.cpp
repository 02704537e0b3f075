#include "gthreadd/http/request_body.hpp"

#include <gtest/gtest.h>

#include <dirent.h>

#include <string>

namespace gthreadd::http {
namespace {

std::size_t entries(const std::string& dir) {
  std::size_t n = 0;
  DIR* d = ::opendir(dir.c_str());
  while (const dirent* e = ::readdir(d))
    if (std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..") ++n;
  ::closedir(d);
  return n;
}

class RequestBodyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gthreadd-body-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ::rmdir(dir_.c_str()); }
  std::string dir_;
};

TEST_F(RequestBodyTest, SmallBodyStaysInMemory) {
  RequestBody b(dir_, 16);
  ASSERT_TRUE(b.append("hello "));
  ASSERT_TRUE(b.append("world"));
  EXPECT_TRUE(b.in_memory());
  EXPECT_EQ(b.memory(), "hello world");
  char buf[5];
  EXPECT_EQ(b.read(6, buf, sizeof buf), 5u);
  EXPECT_EQ(std::string_view(buf, 5), "world");
}

TEST_F(RequestBodyTest, LargeBodySpillsToAnUnlinkedFileAndReadsBack) {
  RequestBody b(dir_, 1000);
  std::string want;
  for (int i = 0; i < 300; ++i) {
    const std::string piece = std::to_string(i) + ",";
    want += piece;
    ASSERT_TRUE(b.append(piece));
  }
  EXPECT_FALSE(b.in_memory());
  EXPECT_EQ(b.size(), want.size());
  EXPECT_EQ(entries(dir_), 0u);  // nothing visible on disk, nothing left behind
  std::string got(want.size(), '\0');
  EXPECT_EQ(b.read(0, got.data(), got.size()), want.size());
  EXPECT_EQ(got, want);
  char tail[8];
  EXPECT_EQ(b.read(want.size() - 3, tail, sizeof tail), 3u);  // never past the end
  EXPECT_EQ(std::string_view(tail, 3), want.substr(want.size() - 3));
  EXPECT_EQ(b.read(want.size(), tail, sizeof tail), 0u);
}

TEST_F(RequestBodyTest, ClearGoesBackToMemory) {
  RequestBody b(dir_, 4);
  ASSERT_TRUE(b.append("0123456789"));
  EXPECT_FALSE(b.in_memory());
  b.clear();
  EXPECT_TRUE(b.in_memory());
  EXPECT_EQ(b.size(), 0u);
  ASSERT_TRUE(b.append("ab"));
  EXPECT_EQ(b.memory(), "ab");
}

TEST(RequestBody, UnwritableSpillDirFailsTheAppend) {
  RequestBody b("/nonexistent-gthreadd-dir", 2);
  EXPECT_TRUE(b.append("ab"));
  EXPECT_FALSE(b.append("cd"));
}

}  // namespace
}  // namespace gthreadd::http
