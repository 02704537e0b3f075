// Parser behaviour the corpus cannot show: resumption, early limits, reuse and pipelining.
#include "gthreadd/http/request_parser.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gthreadd::http {
namespace {

constexpr std::string_view kGet = "GET /a?b HTTP/1.1\r\nHost: h\r\n\r\n";

TEST(RequestParser, OverLongRequestLineIs414BeforeItsEndArrives) {
  ParseLimits limits;
  limits.request_line = 32;
  RequestParser parser(limits);
  Request r;
  std::string buf = "GET /";
  buf.append(27, 'a');  // 32 bytes: still allowed
  EXPECT_EQ(parser.parse(buf, r), ParseStatus::Incomplete);
  buf.push_back('\r');  // could be the end of a 32-byte line
  EXPECT_EQ(parser.parse(buf, r), ParseStatus::Incomplete);
  buf.back() = 'a';
  EXPECT_EQ(parser.parse(buf, r), ParseStatus::Error);
  EXPECT_EQ(parser.error().status, 414);
}

TEST(RequestParser, OverLongFieldIs431BeforeItsEndArrives) {
  ParseLimits limits;
  limits.field_size = 16;
  RequestParser parser(limits);
  Request r;
  std::string buf = "GET / HTTP/1.1\r\nX-Long: ";
  buf.append(20, 'v');
  EXPECT_EQ(parser.parse(buf, r), ParseStatus::Error);
  EXPECT_EQ(parser.error().status, 431);
}

TEST(RequestParser, ErrorIsStickyUntilReset) {
  RequestParser parser(ParseLimits{});
  Request r;
  EXPECT_EQ(parser.parse("GET / HTTP/9.9\r\n", r), ParseStatus::Error);
  EXPECT_EQ(parser.error().status, 505);
  EXPECT_EQ(parser.parse(kGet, r), ParseStatus::Error);
  parser.reset();
  EXPECT_EQ(parser.parse(kGet, r), ParseStatus::Complete);
}

TEST(RequestParser, PipelinedRequestsParseInOrderFromHeadLength) {
  const std::string wire = std::string(kGet) + "POST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc" +
                           "GET /three HTTP/1.0\r\n\r\n" + "BAD\r\n\r\n";
  RequestParser parser(ParseLimits{});
  Request r;
  std::string_view rest = wire;
  ASSERT_EQ(parser.parse(rest, r), ParseStatus::Complete);
  EXPECT_EQ(r.path, "/a");
  rest.remove_prefix(r.head_length);
  parser.reset();
  ASSERT_EQ(parser.parse(rest, r), ParseStatus::Complete);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.content_length, 3u);
  rest.remove_prefix(r.head_length + r.content_length);
  parser.reset();
  ASSERT_EQ(parser.parse(rest, r), ParseStatus::Complete);
  EXPECT_EQ(r.path, "/three");
  EXPECT_FALSE(r.keep_alive);
  rest.remove_prefix(r.head_length);
  parser.reset();
  EXPECT_EQ(parser.parse(rest, r), ParseStatus::Error);
  EXPECT_EQ(parser.error().status, 400);
}

TEST(RequestParser, ReuseKeepsTheHeadersCapacity) {
  RequestParser parser(ParseLimits{});
  Request r;
  const std::string wire = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
  ASSERT_EQ(parser.parse(wire, r), ParseStatus::Complete);
  const auto* storage = r.headers.data();
  for (int i = 0; i < 3; ++i) {
    parser.reset();
    ASSERT_EQ(parser.parse(wire, r), ParseStatus::Complete);
    EXPECT_EQ(r.headers.data(), storage);  // no reallocation per request
    EXPECT_EQ(r.headers.size(), 4u);
  }
}

TEST(RequestParser, ByteDribbleOfHugeHeadStaysLinear) {
  // 99 fields of 8000 bytes, fed one byte at a time: quadratic rescanning would take
  // minutes (~10^12 byte visits); the resumable parser visits each byte a bounded number of times.
  std::string wire = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 99; ++i) wire += "X-" + std::to_string(i) + ": " + std::string(8000, 'v') + "\r\n";
  wire += "\r\n";
  RequestParser parser(ParseLimits{});
  Request r;
  ParseStatus s = ParseStatus::Incomplete;
  for (std::size_t n = 1; n <= wire.size() && s == ParseStatus::Incomplete; ++n)
    s = parser.parse(std::string_view(wire.data(), n), r);
  ASSERT_EQ(s, ParseStatus::Complete);
  EXPECT_EQ(r.headers.size(), 100u);
  EXPECT_EQ(r.head_length, wire.size());
}

TEST(RequestParser, ViewsPointIntoTheBuffer) {
  RequestParser parser(ParseLimits{});
  Request r;
  const std::string wire(kGet);
  ASSERT_EQ(parser.parse(wire, r), ParseStatus::Complete);
  EXPECT_EQ(r.target.data(), wire.data() + 4);
  EXPECT_EQ(r.headers[0].value.data(), wire.data() + wire.find(": h") + 2);
}

TEST(RequestParser, ZeroMeansNoBodyLimit) {
  ParseLimits limits;
  limits.body = 0;
  RequestParser parser(limits);
  Request r;
  ASSERT_EQ(parser.parse("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551615\r\n\r\n", r),
            ParseStatus::Complete);
  EXPECT_EQ(r.content_length, 18446744073709551615ull);
}

}  // namespace
}  // namespace gthreadd::http
