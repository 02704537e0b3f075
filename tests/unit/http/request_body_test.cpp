#include "gthreadd/http/request_body.hpp"

#include <gtest/gtest.h>

#include <dirent.h>

#include <cstdlib>
#include <cstring>
#include <set>
#include <span>
#include <string>

namespace gthreadd::http {
namespace {

std::string contents(const RequestBody& b) {
  std::string out(b.size(), '\0');
  out.resize(b.read(0, out.data(), out.size()));
  return out;
}

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
  EXPECT_EQ(contents(b), "hello world");
  EXPECT_EQ(b.contiguous(6), "world");
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
  EXPECT_EQ(contents(b), "ab");
}

TEST(RequestBody, KnownLengthIsReservedExactlyAndFilledInPlace) {
  RequestBody b("/tmp", 1 << 20);
  b.expect(100000);
  EXPECT_EQ(b.reserved(), 100000u);  // not rounded up to a power of two
  EXPECT_EQ(b.capacity(), 100000u);
  // Room ends where a piece ends: each piece may become a bytes object of its own.
  std::span<char> room = b.prepare(60000);
  ASSERT_EQ(room.size(), 60000u);
  std::memset(room.data(), 'a', 60000);
  b.commit(60000);
  room = b.prepare(40000);
  ASSERT_EQ(room.size(), RequestBody::kPiece - 60000);
  std::memset(room.data(), 'b', room.size());
  b.commit(room.size());
  ASSERT_TRUE(b.append(std::string(100000 - RequestBody::kPiece, 'c')));
  EXPECT_EQ(b.capacity(), 100000u);
  EXPECT_EQ(b.size(), 100000u);
  EXPECT_EQ(contents(b).substr(59999, 2), "ab");
  EXPECT_EQ(contents(b).substr(RequestBody::kPiece - 1, 2), "bc");
  EXPECT_EQ(b.contiguous(60000).size(), RequestBody::kPiece - 60000);
  EXPECT_EQ(b.contiguous(RequestBody::kPiece).size(), 100000 - RequestBody::kPiece);
}

TEST(RequestBody, ChunkedAppendsFillWholePieces) {
  RequestBody b("/tmp", 1 << 20);
  std::string want;
  for (int i = 0; want.size() < 300000; ++i) {
    const std::string part =
        std::to_string(i) + std::string(static_cast<std::size_t>(i % 3000), 'x') + ";";
    want += part;
    ASSERT_TRUE(b.append(part));
  }
  EXPECT_EQ(contents(b), want);
  for (std::uint64_t at = 0; at < want.size(); at += RequestBody::kPiece)
    EXPECT_EQ(b.contiguous(at), std::string_view(want).substr(at, RequestBody::kPiece));
  std::string middle(100000, '\0');
  EXPECT_EQ(b.read(50000, middle.data(), middle.size()), middle.size());  // spans pieces
  EXPECT_EQ(middle, want.substr(50000, 100000));
}

TEST(RequestBody, PrepareRefusesWhatWouldPassTheMemoryLimit) {
  RequestBody b("/tmp", 1000);
  EXPECT_TRUE(b.prepare(1001).empty());
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
  std::set<const char*> first_pieces;
  for (int request = 0; request < 3; ++request) {
    EXPECT_FALSE(b.clear());  // start of the body
    b.expect(1 << 20);
    EXPECT_EQ(b.reserved(), std::size_t{1} << 20);
    EXPECT_EQ(b.capacity(), std::size_t{1} << 20);  // the spares went back into the body
    std::size_t got = 0;
    while (got < (1 << 20)) {
      const std::span<char> room = b.prepare((1 << 20) - got);
      ASSERT_EQ(room.size(), RequestBody::kPiece);
      if (request == 0) first_pieces.insert(room.data());
      else EXPECT_TRUE(first_pieces.count(room.data()));  // same memory, not page-faulted again
      b.commit(room.size());
      got += room.size();
    }
    EXPECT_FALSE(b.clear());  // after the response: the next upload reuses the pieces
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
  EXPECT_TRUE(b.clear());  // after its response: a whole request did without it
  EXPECT_LE(b.capacity(), RequestBody::kKeepCapacity);
  ASSERT_TRUE(b.append("next"));
  EXPECT_EQ(contents(b), "next");
}

TEST(RequestBody, ReleasedPiecesHaveRoomBeforeAndAfterTheirBytes) {
  RequestBody b("/tmp", 1 << 20);
  EXPECT_EQ(b.release_piece(0, 6), nullptr);  // nothing to hand over
  const std::size_t length = 2 * RequestBody::kPiece + 6;
  b.expect(length);
  ASSERT_TRUE(b.append(std::string(RequestBody::kPiece, 'a') +
                       std::string(RequestBody::kPiece, 'b') + "cdefgh"));
  EXPECT_EQ(b.release_piece(1, RequestBody::kPiece), nullptr);      // not at a piece start
  EXPECT_EQ(b.release_piece(0, RequestBody::kPiece - 1), nullptr);  // not the whole piece
  EXPECT_EQ(b.release_piece(0, 2 * RequestBody::kPiece), nullptr);  // more than the piece
  char* block = b.release_piece(RequestBody::kPiece, RequestBody::kPiece);
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(std::string_view(block + RequestBody::kHeadRoom, 3), "bbb");
  block[RequestBody::kHeadRoom + RequestBody::kPiece] = '\0';  // kTailRoom
  std::free(block);
  char* last = b.release_piece(2 * RequestBody::kPiece, 6);
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(std::string_view(last + RequestBody::kHeadRoom, 6), "cdefgh");
  last[RequestBody::kHeadRoom + 6] = '\0';
  std::free(last);
  EXPECT_EQ(b.contiguous(0).size(), RequestBody::kPiece);  // the rest stays readable
  EXPECT_TRUE(b.contiguous(RequestBody::kPiece).empty());
  char out[4];
  EXPECT_EQ(b.read(RequestBody::kPiece - 2, out, sizeof out), 2u);  // short at the gap
  EXPECT_EQ(b.capacity(), RequestBody::kPiece);
  EXPECT_TRUE(b.clear());  // memory went away: the loop counts it for malloc_trim
  EXPECT_FALSE(b.clear());
  ASSERT_TRUE(b.append("next"));
  EXPECT_EQ(contents(b), "next");
}

TEST(RequestBody, APieceMuchLargerThanItsBytesIsNotReleased) {
  RequestBody b("/tmp", 1 << 20);
  ASSERT_TRUE(b.append(std::string(3000, 'x')));  // grown, 4 KiB
  EXPECT_EQ(b.release_piece(0, 3000), nullptr);
  b.clear();
  b.clear();
  b.expect(1000);  // the 4 KiB spare would be too large to hand over: a snug one
  EXPECT_EQ(b.reserved(), 1000u);
}

TEST_F(RequestBodyTest, SpilledMemoryIsNotReleased) {
  RequestBody b(dir_, 4);
  ASSERT_TRUE(b.append("0123456789"));
  EXPECT_EQ(b.release_piece(0, 10), nullptr);
  EXPECT_EQ(b.size(), 10u);
}

TEST(RequestBody, UnwritableSpillDirFailsTheAppend) {
  RequestBody b("/nonexistent-gthreadd-dir", 2);
  EXPECT_TRUE(b.append("ab"));
  EXPECT_FALSE(b.append("cd"));
}

}  // namespace
}  // namespace gthreadd::http
