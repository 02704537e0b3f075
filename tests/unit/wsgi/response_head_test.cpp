// The response head on its own: what validate_response_head keeps, drops and refuses, and
// the exact bytes serialize_head writes (compared with a plain append-based reference).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <regex>

#include "gthreadd/wsgi/response_head.hpp"
#include "wsgi_test_support.hpp"

namespace gthreadd::wsgi::test {
namespace {

struct Validated {
  std::string why;
  ResponseHead head;
};

// Python expressions for the two arguments start_response got.
Validated validate(const std::string& status, const std::string& headers) {
  return with_gil([&] {
    pybind11::object s = pybind11::eval(status);
    pybind11::object h = pybind11::eval(headers);
    Validated v;
    v.why = validate_response_head(s.ptr(), h.ptr(), v.head);
    return v;
  });
}

Validated validate_headers(const std::string& headers) { return validate("'200 OK'", headers); }

TEST(ResponseHeadValidation, UsualHeadIsKeptInOrder) {
  auto v =
      validate_headers("[('Content-Type', 'text/plain'), ('X-Empty', ''), ('X-Tab', 'a\\tb')]");
  ASSERT_EQ(v.why, "");
  EXPECT_EQ(v.head.status, "200 OK");
  EXPECT_EQ(v.head.code, 200);
  EXPECT_EQ(v.head.fields, "Content-Type: text/plain\r\nX-Empty: \r\nX-Tab: a\tb\r\n");
  EXPECT_FALSE(v.head.content_length);
  EXPECT_FALSE(v.head.has_server);
  EXPECT_FALSE(v.head.has_date);
  EXPECT_FALSE(v.head.connection_close);
}

TEST(ResponseHeadValidation, ListsAndTuplesBothWork) {
  auto v = validate("'404 Not Found'", "(['X-A', ' 1 '], ('x-b', '\\t2'))");
  ASSERT_EQ(v.why, "");
  EXPECT_EQ(v.head.code, 404);
  EXPECT_EQ(v.head.fields, "X-A: 1\r\nx-b: 2\r\n");  // optional whitespace trimmed
}

TEST(ResponseHeadValidation, ContentLengthInAnyCaseIsTakenOut) {
  for (const char* name :
       {"Content-Length", "content-length", "CONTENT-LENGTH", "cOnTeNt-LeNgTh"}) {
    SCOPED_TRACE(name);
    auto v = validate_headers(std::string("[('") + name + "', ' 9999999999999999999 ')]");
    ASSERT_EQ(v.why, "");
    EXPECT_EQ(v.head.content_length, 9999999999999999999u);
    EXPECT_EQ(v.head.fields, "");
  }
}

TEST(ResponseHeadValidation, HopByHopNamesInAnyCaseAreDropped) {
  for (const char* name :
       {"Connection", "KEEP-ALIVE", "Proxy-Authenticate", "proxy-authorization", "TE", "Trailers",
        "trailer", "Transfer-Encoding", "UPGRADE", "Proxy-Connection"}) {
    SCOPED_TRACE(name);
    auto v = validate_headers(std::string("[('") + name + "', 'x'), ('X-Kept', '1')]");
    ASSERT_EQ(v.why, "");
    EXPECT_EQ(v.head.fields, "X-Kept: 1\r\n");
    EXPECT_FALSE(v.head.connection_close);
  }
}

TEST(ResponseHeadValidation, ConnectionCloseTokenInAnyCaseIsHonoured) {
  EXPECT_TRUE(validate_headers("[('connection', 'Keep-Alive, CLOSE ')]").head.connection_close);
  EXPECT_TRUE(validate_headers("[('CONNECTION', 'close')]").head.connection_close);
  EXPECT_FALSE(validate_headers("[('Connection', 'keep-alive')]").head.connection_close);
  EXPECT_FALSE(validate_headers("[('Connection', 'closed')]").head.connection_close);
  // Only the Connection field carries it.
  EXPECT_FALSE(validate_headers("[('Keep-Alive', 'close')]").head.connection_close);
}

TEST(ResponseHeadValidation, ServerAndDateInAnyCaseAreNoted) {
  auto v = validate_headers("[('SERVER', 'custom'), ('date', 'Thu, 01 Jan 1970 00:00:00 GMT')]");
  ASSERT_EQ(v.why, "");
  EXPECT_TRUE(v.head.has_server);
  EXPECT_TRUE(v.head.has_date);
  EXPECT_EQ(v.head.fields, "SERVER: custom\r\ndate: Thu, 01 Jan 1970 00:00:00 GMT\r\n");
}

TEST(ResponseHeadValidation, NearMissNamesAreOrdinaryFields) {
  // Same length as a known name, differing in one byte: a letter, or a tchar that the
  // server's case folding (OR 0x20) must not take for a letter or '-' ('_', '^', '`', '~').
  for (const char* name : {"Content_Length", "Content-Lengti", "Xontent-Length", "Keep_Alive",
                           "Connectiom", "Serve^", "Dat`", "T~", "T!", "TF", "Upgrad3", "Trailerz",
                           "Proxy-Connection2", "Transfer-Encodin_"}) {
    SCOPED_TRACE(name);
    auto v = validate_headers(std::string("[('") + name + "', 'close')]");
    ASSERT_EQ(v.why, "");
    EXPECT_EQ(v.head.fields, std::string(name) + ": close\r\n");
    EXPECT_FALSE(v.head.content_length);
    EXPECT_FALSE(v.head.has_server);
    EXPECT_FALSE(v.head.has_date);
    EXPECT_FALSE(v.head.connection_close);
  }
}

TEST(ResponseHeadValidation, BadStatusSaysWhy) {
  EXPECT_EQ(validate("b'200 OK'", "[]").why, "status must be a latin-1 str");
  EXPECT_EQ(validate("'200'", "[]").why, "status must be 'NNN reason'");
  EXPECT_EQ(validate("'2x0 OK'", "[]").why, "status code must be three digits");
  EXPECT_EQ(validate("'099 Low'", "[]").why, "status code must be 100-999");
  EXPECT_EQ(validate("'200 O\\x7fK'", "[]").why, "status reason contains a control character");
  EXPECT_EQ(validate("'200 O\\rK'", "[]").why, "status reason contains a control character");
  EXPECT_EQ(validate("'200 \\u20ac'", "[]").why, "status must be a latin-1 str");
  auto empty_reason = validate("'204 '", "[]");
  EXPECT_EQ(empty_reason.why, "");
  EXPECT_EQ(empty_reason.head.code, 204);
}

TEST(ResponseHeadValidation, BadHeadersSayWhy) {
  EXPECT_EQ(validate_headers("{'a': 'b'}").why, "headers must be a list of tuples");
  EXPECT_EQ(validate_headers("[('a', 'b', 'c')]").why, "header must be a (name, value) tuple");
  EXPECT_EQ(validate_headers("['ab']").why, "header must be a (name, value) tuple");
  for (const char* name : {"''", "'Bad Name'", "'Keep\\rAlive'", "'X:Y'", "b'X'", "'T\\u00e9'"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(validate_headers(std::string("[(") + name + ", 'v')]").why,
              "header name is not a token");
  }
  EXPECT_EQ(validate_headers("[('X', 1)]").why, "value of header 'X' must be a latin-1 str");
  EXPECT_EQ(validate_headers("[('X', '\\u20ac')]").why,
            "value of header 'X' must be a latin-1 str");
  for (const char* value : {"'a\\r\\nInjected: 1'", "'a\\x00'", "'\\x7f'", "'a\\x1fb'"}) {
    SCOPED_TRACE(value);
    EXPECT_EQ(validate_headers(std::string("[('X', ") + value + ")]").why,
              "value of header 'X' contains CR, LF, NUL or a control character");
  }
  EXPECT_EQ(validate_headers("[('X', 'caf\\u00e9')]").why, "");  // obs-text is allowed
}

TEST(ResponseHeadValidation, BadContentLengthSaysWhy) {
  for (const char* value : {"''", "' '", "'-1'", "'1e3'", "'0x10'", "'12345678901234567890'"}) {
    SCOPED_TRACE(value);
    EXPECT_EQ(validate_headers(std::string("[('Content-Length', ") + value + ")]").why,
              "Content-Length is not a number");
  }
  EXPECT_EQ(validate_headers("[('Content-Length', '1'), ('content-length', '1')]").why,
            "more than one Content-Length header");
}

// The serialiser as it was first written: appends and std::to_string.
std::string reference_head(const ResponseHead& head, BodyFraming framing,
                           std::optional<std::uint64_t> derived_length, bool keep_alive,
                           int version_minor, std::string_view date) {
  std::string out = "HTTP/1.1 " + head.status + "\r\n";
  if (!head.has_server) out += "Server: gthreadd\r\n";
  if (!head.has_date) out += "Date: " + std::string(date) + "\r\n";
  if (!keep_alive) {
    out += "Connection: close\r\n";
  } else if (version_minor == 0) {
    out += "Connection: keep-alive\r\n";
  }
  if (head.content_length) {
    out += "Content-Length: " + std::to_string(*head.content_length) + "\r\n";
  } else if (derived_length) {
    out += "Content-Length: " + std::to_string(*derived_length) + "\r\n";
  } else if (framing == BodyFraming::Chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  }
  return out + head.fields + "\r\n";
}

// The Date value out of a serialised head ("" when there is none), checked for its shape.
std::string date_of(const std::string& bytes) {
  static const std::regex kDate(
      "\r\nDate: ((Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
      "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} "
      "GMT)\r\n");
  std::smatch m;
  return std::regex_search(bytes, m, kDate) ? m[1].str() : std::string();
}

TEST(ResponseHeadSerialisation, UsualHelloHead) {
  ResponseHead head;
  head.status = "200 OK";
  head.code = 200;
  head.fields = "Content-Type: text/plain\r\n";
  head.content_length = 13;
  const std::string bytes = serialize_head(head, BodyFraming::ContentLength, std::nullopt, true, 1);
  const std::string date = date_of(bytes);
  ASSERT_EQ(date.size(), 29u) << bytes;
  EXPECT_EQ(bytes, "HTTP/1.1 200 OK\r\nServer: gthreadd\r\nDate: " + date +
                       "\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\n");
}

TEST(ResponseHeadSerialisation, SameBytesAsTheReferenceForEveryCombination) {
  const std::string long_fields = [] {
    std::string f;
    for (int i = 0; i < 50; ++i)
      f += "X-Field-" + std::to_string(i) + ": " + std::string(i, 'v') + "\r\n";
    return f;
  }();
  int checked = 0;
  for (const std::string status : {"200 OK", "204 ", "599 A Rather Long Reason Phrase Here"})
    for (const std::string& fields : {std::string(), std::string("X: 1\r\n"), long_fields})
      for (int flags = 0; flags < 4; ++flags)
        for (auto length :
             {std::optional<std::uint64_t>(), std::optional<std::uint64_t>(0),
              std::optional<std::uint64_t>(std::numeric_limits<std::uint64_t>::max())})
          for (auto derived :
               {std::optional<std::uint64_t>(), std::optional<std::uint64_t>(987654321)})
            for (auto framing : {BodyFraming::None, BodyFraming::ContentLength,
                                 BodyFraming::Chunked, BodyFraming::CloseDelimited})
              for (bool keep_alive : {false, true})
                for (int minor : {0, 1}) {
                  ResponseHead head;
                  head.status = status;
                  head.fields = fields;
                  head.has_server = flags & 1;
                  head.has_date = flags & 2;
                  head.content_length = length;
                  const std::string bytes =
                      serialize_head(head, framing, derived, keep_alive, minor);
                  const std::string date = date_of(bytes);
                  ASSERT_EQ(date.empty(), head.has_date) << bytes;
                  ASSERT_EQ(bytes, reference_head(head, framing, derived, keep_alive, minor, date));
                  ++checked;
                }
  EXPECT_EQ(checked, 3 * 3 * 4 * 3 * 2 * 4 * 2 * 2);
}

}  // namespace
}  // namespace gthreadd::wsgi::test
