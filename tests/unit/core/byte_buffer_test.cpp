#include "gthreadd/core/byte_buffer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gthreadd::core {
namespace {

void fill(ByteBuffer& b, std::size_t n, char c) {
  std::memset(b.prepare(n), c, n);
  b.commit(n);
}

TEST(ByteBuffer, ShrinkReleasesALargeBufferAndKeepsTheData) {
  ByteBuffer b;
  fill(b, 300 * 1024, 'x');  // a large request passed through
  b.erase(0, 300 * 1024 - 5);
  ASSERT_EQ(b.view(), "xxxxx");
  EXPECT_GT(b.capacity(), 64u * 1024);
  EXPECT_TRUE(b.shrink_to(64 * 1024));
  EXPECT_EQ(b.capacity(), 64u * 1024);
  EXPECT_EQ(b.view(), "xxxxx");  // pipelined bytes survive
}

TEST(ByteBuffer, ShrinkOfAnEmptyBufferFreesEverything) {
  ByteBuffer b;
  fill(b, 200 * 1024, 'y');
  b.clear();
  EXPECT_TRUE(b.shrink_to(64 * 1024));
  EXPECT_EQ(b.capacity(), 0u);
  fill(b, 3, 'z');  // and it still works afterwards
  EXPECT_EQ(b.view(), "zzz");
}

TEST(ByteBuffer, ShrinkLeavesSmallOrFullBuffersAlone) {
  ByteBuffer small;
  fill(small, 100, 'a');
  const std::size_t cap = small.capacity();
  EXPECT_FALSE(small.shrink_to(64 * 1024));
  EXPECT_EQ(small.capacity(), cap);

  ByteBuffer full;
  fill(full, 100 * 1024, 'b');  // more data than `keep`: nothing to give back
  EXPECT_FALSE(full.shrink_to(64 * 1024));
  EXPECT_EQ(full.size(), 100u * 1024);
}

TEST(ByteBuffer, ReserveIsExact) {
  ByteBuffer b;
  fill(b, 10, 'q');
  b.reserve(100000);
  EXPECT_EQ(b.capacity(), 100000u);  // not doubled up to 128 KiB
  EXPECT_EQ(b.view(), std::string(10, 'q'));
  b.reserve(10);  // never shrinks
  EXPECT_EQ(b.capacity(), 100000u);
}

TEST(ByteBuffer, RoomAroundTheDataTravelsWithRelease) {
  ByteBuffer b(32, 1);
  fill(b, 10, 'r');
  b.reserve(5000);  // moves the data: the room moves with it
  EXPECT_EQ(b.view(), std::string(10, 'r'));
  char* block = b.release();
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(std::string_view(block + 32, 10), std::string(10, 'r'));
  block[32 + 5000] = '\0';  // the tail room is ours to write
  std::free(block);
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.capacity(), 0u);
  fill(b, 3, 's');  // usable again
  EXPECT_EQ(b.view(), "sss");
}

TEST(ByteBuffer, ShrinkingALargeBufferKeepsItsData) {
  ByteBuffer b(32, 1);
  fill(b, 1 << 20, 'p');  // large enough that its pages are dropped before the free
  b.erase(0, (1 << 20) - 5000);
  EXPECT_TRUE(b.shrink_to(64 * 1024));
  EXPECT_EQ(b.view(), std::string(5000, 'p'));
  ByteBuffer moved(std::move(b));
  EXPECT_EQ(moved.view(), std::string(5000, 'p'));
  EXPECT_EQ(b.capacity(), 0u);  // NOLINT: moved-from state is empty
  fill(b, 2, 'q');
  EXPECT_EQ(b.view(), "qq");
}

}  // namespace
}  // namespace gthreadd::core
