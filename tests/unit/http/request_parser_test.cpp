// Parser behaviour the corpus cannot show: resumption, early limits, reuse and pipelining.
#include "gthreadd/http/request_parser.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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
  const std::string wire = std::string(kGet) +
                           "POST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc" +
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
  const char* first_head = r.method.data();
  for (int i = 0; i < 3; ++i) {
    parser.reset();
    ASSERT_EQ(parser.parse(wire, r), ParseStatus::Complete);
    EXPECT_EQ(r.headers.data(), storage);    // no reallocation per request
    EXPECT_EQ(r.method.data(), first_head);  // the head copy reuses its block too
    EXPECT_EQ(r.headers.size(), 4u);
  }
}

TEST(RequestParser, ByteDribbleOfHugeHeadStaysLinear) {
  // 99 fields of 8000 bytes, fed one byte at a time: quadratic rescanning would take
  // minutes (~10^12 byte visits); the resumable parser visits each byte a bounded number of times.
  std::string wire = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 99; ++i)
    wire += "X-" + std::to_string(i) + ": " + std::string(8000, 'v') + "\r\n";
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

// Issue 10: views used to point into the read buffer (and folded values into the parser),
// and a body arriving in a later read moved the buffer under them. The Request owns its bytes
// now: overwrite and free the buffer, reset and destroy the parser, and every view still reads
// what was sent (under ASan, a view into freed memory is a heap-use-after-free).
TEST(RequestParser, FoldedHeadOutlivesItsBufferAndParser) {
  ParseLimits limits;
  limits.permit_obsolete_folding = true;
  Request r;
  {
    auto parser = std::make_unique<RequestParser>(limits);
    auto wire = std::make_unique<std::string>(
        "POST /up?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Folded: one\r\n  two\r\n\tthree\r\n"
        "Content-Length: 3\r\n\r\nabc");
    ASSERT_EQ(parser->parse(*wire, r), ParseStatus::Complete);
    std::fill(wire->begin(), wire->end(), 'Z');
    wire.reset();
    parser->reset();
    parser.reset();
  }
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/up?x=1");
  EXPECT_EQ(r.path, "/up");
  EXPECT_EQ(r.query, "x=1");
  ASSERT_EQ(r.headers.size(), 3u);
  EXPECT_EQ(r.headers[0].name, "Host");
  EXPECT_EQ(r.headers[0].value, "example.com");
  EXPECT_EQ(r.headers[1].name, "X-Folded");
  EXPECT_EQ(r.headers[1].value, "one two three");
  EXPECT_EQ(r.headers[2].value, "3");
  EXPECT_EQ(r.content_length, 3u);

  // A move keeps the views valid (std::vector hands its block over).
  Request moved(std::move(r));
  Request assigned;
  assigned = std::move(moved);
  EXPECT_EQ(assigned.headers[1].value, "one two three");
  EXPECT_EQ(assigned.target, "/up?x=1");
}

// The event loop's case: the head is parsed, then the buffer grows (and moves) as the body
// arrives; the request must not change.
TEST(RequestParser, HeadSurvivesTheBufferGrowing) {
  ParseLimits limits;
  limits.permit_obsolete_folding = true;
  RequestParser parser(limits);
  Request r;
  std::string buf = "PUT / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\nContent-Length: 100000\r\n\r\n";
  buf.shrink_to_fit();
  ASSERT_EQ(parser.parse(buf, r), ParseStatus::Complete);
  const char* before = buf.data();
  buf.append(100000, 'b');
  buf.shrink_to_fit();
  ASSERT_NE(buf.data(), before);
  std::fill(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r.head_length), 'Z');
  EXPECT_EQ(r.headers[1].value, "a b");
  EXPECT_EQ(r.headers[0].value, "h");
  EXPECT_EQ(r.method, "PUT");
}

TEST(RequestParser, ZeroMeansNoBodyLimit) {
  ParseLimits limits;
  limits.body = 0;
  RequestParser parser(limits);
  Request r;
  ASSERT_EQ(
      parser.parse("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551615\r\n\r\n", r),
      ParseStatus::Complete);
  EXPECT_EQ(r.content_length, 18446744073709551615ull);
}

Request parse_ok(std::string_view wire, const ParseLimits& limits = {}) {
  RequestParser parser(limits);
  Request r;
  EXPECT_EQ(parser.parse(wire, r), ParseStatus::Complete) << wire << " → " << parser.error().reason;
  return r;
}

int parse_error(std::string_view wire, const ParseLimits& limits = {}) {
  RequestParser parser(limits);
  Request r;
  const ParseStatus s = parser.parse(wire, r);
  EXPECT_EQ(s, ParseStatus::Error) << wire;
  return s == ParseStatus::Error ? parser.error().status : 0;
}

std::string with_host(std::string_view host) {
  return "GET / HTTP/1.1\r\nHost:" + std::string(host) + "\r\n\r\n";
}

// RFC 9112 §3.2: Host = uri-host [":" port], exactly one on HTTP/1.1, else 400.
TEST(RequestParser, HostMustBeAUriHostWithOptionalPort) {
  for (const char* ok :
       {" example.com", " example.com:8080", " EXAMPLE.com.", " 127.0.0.1", " 127.0.0.1:80",
        " [::1]", " [::1]:8443", " [2001:db8::a:b]", " localhost:", " xn--bcher-kva.example",
        " a-b_c~d", " %41bc", " [v1.fe:x]"}) {
    SCOPED_TRACE(ok);
    parse_ok(with_host(ok));
  }
  for (const char* bad : {"",
                          " ",
                          " user@example.com",
                          " u:p@example.com",
                          " example.com/x",
                          " a, b",
                          " a,b",
                          " example.com:80x",
                          " example.com:99999",
                          " example.com:123456",
                          " :80",
                          " [::1",
                          " [::1]x",
                          " [::1]:x",
                          " [nothex]",
                          " ::1",
                          " a:b:c",
                          " exa mple.com",
                          " %4",
                          " %zz",
                          " a\"b",
                          " [fe80::1%25eth0]",
                          " http://example.com",
                          " a?b",
                          " a#b",
                          " [v1.]"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(parse_error(with_host(bad)), 400);
  }
  // HTTP/1.0 may leave Host out, but a present one must be valid; never two.
  parse_ok("GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(parse_error("GET / HTTP/1.0\r\nHost: a@b\r\n\r\n"), 400);
  EXPECT_EQ(parse_error("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n"), 400);
}

TEST(RequestParser, RepeatedContentTypeIs400) {
  EXPECT_EQ(parse_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\n"
                        "content-type: application/json\r\nContent-Length: 0\r\n\r\n"),
            400);
  EXPECT_EQ(parse_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Type: a\r\nContent-Type: a\r\n\r\n"),
            400);
  const Request r = parse_ok("POST / HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\n\r\n");
  EXPECT_EQ(r.headers[1].value, "text/plain");
}

TEST(RequestParser, ConnectIs501WithoutReachingTheApp) {
  EXPECT_EQ(parse_error("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"), 501);
  // A malformed CONNECT target is still a 400.
  EXPECT_EQ(parse_error("CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
}

// gunicorn (message.py parse_headers): len(line) + len("\r\n") > limit_request_field_size.
TEST(RequestParser, FieldSizeCountsTheLineWithItsCrlfAsGunicorn) {
  ParseLimits limits;
  limits.field_size = 16;
  parse_ok("GET / HTTP/1.1\r\nHost: h\r\nX-A: 012345678\r\n\r\n", limits);  // 14 + 2 = 16
  EXPECT_EQ(parse_error("GET / HTTP/1.1\r\nHost: h\r\nX-A: 0123456789\r\n\r\n", limits), 431);
  // The same verdict while the line is still arriving: 15 bytes and no CR yet is too long.
  EXPECT_EQ(parse_error("GET / HTTP/1.1\r\nHost: h\r\nX-A: 0123456789", limits), 431);
  RequestParser parser(limits);
  Request r;
  EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\nHost: h\r\nX-A: 012345678\r", r),
            ParseStatus::Incomplete);
}

TEST(RequestParser, FoldedFieldSizeCountsEveryLineWithItsCrlf) {
  ParseLimits limits;
  limits.permit_obsolete_folding = true;
  limits.field_size = 20;
  // "X-A: one" (8 + 2) + " two" (4 + 2) = 16; + " 3" (2 + 2) = 20: allowed; one more byte is not.
  const Request r = parse_ok("GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n 3\r\n\r\n", limits);
  EXPECT_EQ(r.headers[1].value, "one two 3");
  EXPECT_EQ(parse_error("GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n 34\r\n\r\n", limits),
            431);
  // A dropped '_' field still counts, as in gunicorn.
  EXPECT_EQ(parse_error("GET / HTTP/1.1\r\nHost: h\r\nX_A: one\r\n two\r\n 34\r\n\r\n", limits),
            431);
}

TEST(RequestParser, RequestLineCountsWithoutItsCrlf) {
  ParseLimits limits;
  limits.request_line = 16;
  parse_ok("GET /ab HTTP/1.1\r\nHost: h\r\n\r\n", limits);  // 16 bytes, CRLF not counted
  EXPECT_EQ(parse_error("GET /abc HTTP/1.1\r\nHost: h\r\n\r\n", limits), 414);
}

// gunicorn 22+: casefold_http_method upper-cases after validation, so without
// permit_unconventional_http_method a lower-case method is still a 400.
TEST(RequestParser, CasefoldHttpMethod) {
  ParseLimits limits;
  limits.casefold_method = true;
  EXPECT_EQ(parse_error("get / HTTP/1.1\r\nHost: h\r\n\r\n", limits), 400);
  limits.permit_unconventional_method = true;
  Request r = parse_ok("get /p HTTP/1.1\r\nHost: h\r\n\r\n", limits);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/p");
  r = parse_ok("\r\nmKcOl-x /p HTTP/1.1\r\nHost: h\r\n\r\n", limits);
  EXPECT_EQ(r.method, "MKCOL-X");
  limits.casefold_method = false;
  EXPECT_EQ(parse_ok("get / HTTP/1.1\r\nHost: h\r\n\r\n", limits).method, "get");
}

constexpr std::string_view kUnderscore =
    "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\nX_Forwarded_For: 6.6.6.6\r\n"
    "Script_Name: /app\r\n\r\n";

std::vector<std::string> names(const Request& r) {
  std::vector<std::string> out;
  for (const auto& h : r.headers) out.emplace_back(h.name);
  return out;
}

TEST(RequestParser, HeaderMapDropRefuseDangerous) {
  ParseLimits limits;  // drop is the default
  EXPECT_EQ(names(parse_ok(kUnderscore, limits)),
            (std::vector<std::string>{"Host", "X-Forwarded-For"}));
  limits.header_map = HeaderMap::Refuse;
  EXPECT_EQ(parse_error(kUnderscore, limits), 400);
  limits.header_map = HeaderMap::Dangerous;
  const Request r = parse_ok(kUnderscore, limits);
  EXPECT_EQ(names(r), (std::vector<std::string>{"Host", "X-Forwarded-For", "X_Forwarded_For",
                                                "Script_Name"}));
  EXPECT_EQ(r.headers[2].value, "6.6.6.6");
  // Dropped or kept, a '_' field is never framing.
  limits.header_map = HeaderMap::Dangerous;
  EXPECT_EQ(parse_ok("POST / HTTP/1.1\r\nHost: h\r\nContent_Length: 5\r\n\r\n", limits).framing,
            BodyFraming::None);
}

TEST(RequestParser, ForwarderHeadersOnlyFromATrustedForwarder) {
  ParseLimits limits;
  limits.header_map = HeaderMap::Refuse;
  limits.forwarder_headers = std::make_shared<const std::vector<std::string>>(
      std::vector<std::string>{"SCRIPT_NAME", "PATH_INFO"});
  RequestParser parser(limits);
  Request r;
  const std::string wire = "GET / HTTP/1.1\r\nHost: h\r\nScript_Name: /app\r\n\r\n";
  EXPECT_FALSE(parser.trusted_forwarder());
  EXPECT_EQ(parser.parse(wire, r), ParseStatus::Error);  // untrusted: header_map applies
  EXPECT_EQ(parser.error().status, 400);
  parser.set_trusted_forwarder(true);
  parser.reset();
  ASSERT_EQ(parser.parse(wire, r), ParseStatus::Complete);
  EXPECT_EQ(names(r), (std::vector<std::string>{"Host", "Script_Name"}));
  EXPECT_EQ(r.headers[1].value, "/app");
  parser.reset();  // the flag is per connection: kept
  EXPECT_TRUE(parser.trusted_forwarder());
  ASSERT_EQ(parser.parse(wire, r), ParseStatus::Complete);
  // A name not in the list still follows header_map, trusted or not.
  parser.reset();
  EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\nHost: h\r\nX_Other: 1\r\n\r\n", r), ParseStatus::Error);
  // Drop mode: listed names kept from a trusted peer, others dropped.
  limits.header_map = HeaderMap::Drop;
  RequestParser drop(limits);
  drop.set_trusted_forwarder(true);
  ASSERT_EQ(drop.parse("GET / HTTP/1.1\r\nHost: h\r\nPATH_INFO: /x\r\nX_Other: 1\r\n\r\n", r),
            ParseStatus::Complete);
  EXPECT_EQ(names(r), (std::vector<std::string>{"Host", "PATH_INFO"}));
  // "*" lets a trusted forwarder send any '_' name.
  limits.forwarder_headers =
      std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"*"});
  RequestParser any(limits);
  any.set_trusted_forwarder(true);
  ASSERT_EQ(any.parse("GET / HTTP/1.1\r\nHost: h\r\nX_Other: 1\r\n\r\n", r), ParseStatus::Complete);
  EXPECT_EQ(names(r), (std::vector<std::string>{"Host", "X_Other"}));
}

}  // namespace
}  // namespace gthreadd::http
