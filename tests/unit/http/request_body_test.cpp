#include "gthreadd/http/request_body.hpp"

#include <gtest/gtest.h>

#include <dirent.h>

#include <cstdlib>
#include <cstring>
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

TEST(RequestBody, KnownLengthIsReservedExactlyAndFilledInPlace) {
  RequestBody b("/tmp", 1 << 20);
  b.expect(100000);
  EXPECT_EQ(b.capacity(), 100000u);  // not rounded up to a power of two
  char* dst = b.prepare(60000);
  ASSERT_NE(dst, nullptr);
  std::memset(dst, 'a', 60000);
  b.commit(60000);
  ASSERT_TRUE(b.append(std::string(40000, 'b')));
  EXPECT_EQ(b.capacity(), 100000u);
  EXPECT_EQ(b.size(), 100000u);
  EXPECT_EQ(b.memory().substr(59999, 2), "ab");
}

TEST(RequestBody, PrepareRefusesWhatWouldPassTheMemoryLimit) {
  RequestBody b("/tmp", 1000);
  EXPECT_EQ(b.prepare(1001), nullptr);
  b.expect(5000);  // will spill: nothing reserved for it
  EXPECT_EQ(b.capacity(), 0u);
}

TEST(RequestBody, ClearKeepsASmallBuffer) {
  RequestBody b("/tmp", 4 << 20);
  ASSERT_TRUE(b.append(std::string(1000, 'x')));
  const std::size_t small = b.capacity();
  EXPECT_FALSE(b.clear());
  EXPECT_FALSE(b.clear());
  EXPECT_FALSE(b.clear());
  EXPECT_EQ(b.capacity(), small);  // a small buffer is reused by every later request
}

// The loop clears once when a body starts and once after the response.
TEST(RequestBody, LargeBufferStaysWhileUploadsContinue) {
  RequestBody b("/tmp", 4 << 20);
  for (int request = 0; request < 3; ++request) {
    EXPECT_FALSE(b.clear());  // start of the body
    b.expect(1 << 20);
    EXPECT_EQ(b.capacity(), std::size_t{1} << 20);
    const char* const first = b.prepare(1 << 20);
    ASSERT_NE(first, nullptr);
    b.commit(1 << 20);
    EXPECT_FALSE(b.clear());  // after the response: the next upload reuses it
    EXPECT_EQ(b.size(), 0u);
    EXPECT_EQ(b.capacity(), std::size_t{1} << 20);
  }
}

TEST(RequestBody, LargeBufferGoesAfterARequestThatDidNotNeedIt) {
  RequestBody b("/tmp", 4 << 20);
  ASSERT_TRUE(b.append(std::string(1 << 20, 'y')));
  EXPECT_FALSE(b.clear());  // after the upload's response
  EXPECT_FALSE(b.clear());  // a small request starts: it may still be an upload
  ASSERT_TRUE(b.append("small"));
  EXPECT_TRUE(b.clear());   // after its response: a whole request did without it
  EXPECT_LE(b.capacity(), RequestBody::kKeepCapacity);
  ASSERT_TRUE(b.append("next"));
  EXPECT_EQ(b.memory(), "next");
}

TEST(RequestBody, ReleasedMemoryHasRoomBeforeAndAfterTheBody) {
  RequestBody b("/tmp", 1 << 20);
  EXPECT_EQ(b.release_memory(), nullptr);  // nothing to hand over
  b.expect(6);
  ASSERT_TRUE(b.append("abcdef"));
  char* block = b.release_memory();
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(std::string_view(block + RequestBody::kHeadRoom, 6), "abcdef");
  block[RequestBody::kHeadRoom + 6] = '\0';  // kTailRoom
  std::free(block);
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_TRUE(b.clear());  // memory went away: the loop counts it for malloc_trim
  EXPECT_FALSE(b.clear());
  ASSERT_TRUE(b.append("next"));
  EXPECT_EQ(b.memory(), "next");
}

TEST_F(RequestBodyTest, SpilledMemoryIsNotReleased) {
  RequestBody b(dir_, 4);
  ASSERT_TRUE(b.append("0123456789"));
  EXPECT_EQ(b.release_memory(), nullptr);
  EXPECT_EQ(b.size(), 10u);
}

TEST(RequestBody, UnwritableSpillDirFailsTheAppend) {
  RequestBody b("/nonexistent-gthreadd-dir", 2);
  EXPECT_TRUE(b.append("ab"));
  EXPECT_FALSE(b.append("cd"));
}

}  // namespace
}  // namespace gthreadd::http
