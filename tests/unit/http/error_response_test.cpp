#include "gthreadd/http/error_response.hpp"

#include <gtest/gtest.h>

#include <clocale>
#include <regex>
#include <string>

#include "gthreadd/http/date_cache.hpp"

namespace gthreadd::http {
namespace {

TEST(ErrorResponse, IsACompleteClosingResponse) {
  const std::string r = make_error_response(431);
  EXPECT_EQ(r.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u);
  EXPECT_NE(r.find("\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_NE(r.find("\r\nServer: gthreadd\r\n"), std::string::npos);
  const auto head_end = r.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  const std::string body = r.substr(head_end + 4);
  EXPECT_NE(r.find("Content-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos);
}

TEST(ErrorResponse, ReasonPhrases) {
  EXPECT_EQ(reason_phrase(400), "Bad Request");
  EXPECT_EQ(reason_phrase(408), "Request Timeout");
  EXPECT_EQ(reason_phrase(413), "Content Too Large");
  EXPECT_EQ(reason_phrase(414), "URI Too Long");
  EXPECT_EQ(reason_phrase(501), "Not Implemented");
  EXPECT_EQ(reason_phrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(reason_phrase(799), "Unknown");
}

TEST(DateCache, IsAnImfFixdateWhateverTheLocale) {
  std::setlocale(LC_ALL, "C.UTF-8");
  const std::string d(http_date_now());
  const std::regex imf(
      R"((Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT)");
  EXPECT_TRUE(std::regex_match(d, imf)) << d;
  std::setlocale(LC_ALL, "C");
}

}  // namespace
}  // namespace gthreadd::http
