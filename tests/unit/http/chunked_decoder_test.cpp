#include "gthreadd/http/chunked_decoder.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gthreadd::http {
namespace {

constexpr std::string_view kBody =
    "4\r\nWiki\r\n5;ext=\"q\\\"x\"\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: t\r\n\r\n";
constexpr std::string_view kNext = "GET / HTTP/1.1\r\n";

std::string contents(const RequestBody& b) {
  std::string s(b.size(), '\0');
  b.read(0, s.data(), s.size());
  return s;
}

TEST(ChunkedDecoder, SplitAtEveryBytePositionGivesTheSameBodyAndConsumed) {
  const std::string wire = std::string(kBody) + std::string(kNext);
  for (std::size_t split = 0; split <= wire.size(); ++split) {
    SCOPED_TRACE(split);
    ChunkedDecoder d;
    RequestBody body;
    std::string window = wire.substr(0, split);
    auto r = d.feed(window, body);
    std::size_t used = r.consumed;
    if (r.status == ChunkedDecoder::Status::NeedMore) {
      window.erase(0, r.consumed);
      window += wire.substr(split);
      r = d.feed(window, body);
      used += r.consumed;
    }
    ASSERT_EQ(r.status, ChunkedDecoder::Status::Done);
    EXPECT_EQ(used, kBody.size());  // the next request is left alone
    EXPECT_EQ(contents(body), "Wikipedia in\r\n\r\nchunks.");
  }
}

TEST(ChunkedDecoder, EndOfInputBeforeLastChunkIsNotDone) {
  ChunkedDecoder d;
  RequestBody body;
  const auto r = d.feed("5\r\nhello\r\n", body);
  EXPECT_EQ(r.status, ChunkedDecoder::Status::NeedMore);  // the caller turns EOF here into 400
}

TEST(ChunkedDecoder, BodyLimitIsCheckedBeforeTheDataArrives) {
  ChunkedDecoder d(100);
  RequestBody body;
  const auto r = d.feed("65\r\n", body);  // 101 bytes announced
  EXPECT_EQ(r.status, ChunkedDecoder::Status::Error);
  EXPECT_EQ(d.error_status(), 413);
  EXPECT_EQ(body.size(), 0u);
}

TEST(ChunkedDecoder, LimitSpansChunks) {
  ChunkedDecoder d(10);
  RequestBody body;
  EXPECT_EQ(d.feed("5\r\naaaaa\r\n5\r\nbbbbb\r\n", body).status, ChunkedDecoder::Status::NeedMore);
  EXPECT_EQ(d.feed("1\r\n", body).status, ChunkedDecoder::Status::Error);
  EXPECT_EQ(d.error_status(), 413);
}

TEST(ChunkedDecoder, LongChunkLineRejectedWithoutItsEnd) {
  ChunkedDecoder d;
  RequestBody body;
  std::string line = "1;a=";
  line.append(ChunkedDecoder::kMaxChunkLine + 10, 'x');
  EXPECT_EQ(d.feed(line, body).status, ChunkedDecoder::Status::Error);
  EXPECT_EQ(d.error_status(), 400);
}

TEST(ChunkedDecoder, ResetMakesItReusable) {
  ChunkedDecoder d;
  RequestBody body;
  EXPECT_EQ(d.feed("zz\r\n", body).status, ChunkedDecoder::Status::Error);
  d.reset();
  EXPECT_EQ(d.feed("0\r\n\r\n", body).status, ChunkedDecoder::Status::Done);
}

TEST(ChunkedDecoder, MaximalChunkSizeDoesNotOverflowTheTotal) {
  ChunkedDecoder d(0);
  RequestBody body;
  EXPECT_EQ(d.feed("1\r\na\r\nffffffffffffffff\r\n", body).status,
            ChunkedDecoder::Status::NeedMore);
  ChunkedDecoder limited(1000);
  EXPECT_EQ(limited.feed("1\r\na\r\nffffffffffffffff\r\n", body).status,
            ChunkedDecoder::Status::Error);
  EXPECT_EQ(limited.error_status(), 413);
}

}  // namespace
}  // namespace gthreadd::http

namespace gthreadd::http {
namespace {

TEST(ChunkedDecoder, TrailerBoundCoversTheWholeSection) {
  // Many small trailer lines: each is fine, their sum is not.
  std::string wire = "0\r\n";
  while (wire.size() < ChunkedDecoder::kMaxTrailerBytes + 100) wire += "X-T: 0123456789abcdef\r\n";
  wire += "\r\n";
  for (std::size_t step : {wire.size(), std::size_t{1}}) {
    ChunkedDecoder d;
    RequestBody body;
    ChunkedDecoder::Result r;
    std::string window;
    for (std::size_t fed = 0; fed < wire.size() && r.status == ChunkedDecoder::Status::NeedMore;
         fed += step) {
      window.append(wire.substr(fed, step));
      r = d.feed(window, body);
      window.erase(0, r.consumed);
    }
    EXPECT_EQ(r.status, ChunkedDecoder::Status::Error) << "step " << step;
    EXPECT_EQ(d.error_status(), 431);
  }
}

TEST(ChunkedDecoder, TrailerSectionAtTheBoundIsAccepted) {
  std::string wire = "0\r\nX-T: ";
  wire.append(ChunkedDecoder::kMaxTrailerBytes - wire.size() + 3 - 2, 'v');
  wire += "\r\n\r\n";
  ChunkedDecoder d;
  RequestBody body;
  const auto r = d.feed(wire, body);
  EXPECT_EQ(r.status, ChunkedDecoder::Status::Done) << d.error_reason();
  EXPECT_EQ(r.consumed, wire.size());
}

}  // namespace
}  // namespace gthreadd::http
