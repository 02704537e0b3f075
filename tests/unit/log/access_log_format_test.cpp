#include "gthreadd/log/access_log_format.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <stdexcept>
#include <vector>

namespace gthreadd::log {
namespace {

using namespace std::chrono_literals;

// Expected lines were produced by Debian's gunicorn 20.1 (glogging.Logger.atoms + SafeAtoms)
// for the same request, with TZ=UTC and the clock at 2026-11-25 08:00:00.
class AccessLogFormatTest : public testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
    record_.remote_addr = "192.0.2.7";
    record_.method = "GET";
    record_.raw_uri = "/a%20b?x=1";
    record_.path = "/a b";
    record_.query = "x=1";
    record_.protocol = "HTTP/1.1";
    record_.status = 200;
    record_.response_length = 1234;
    record_.request_headers = request_headers_;
    record_.response_headers = response_headers_;
    record_.duration = 1234567us;
    record_.start = std::chrono::system_clock::from_time_t(1795593600) - record_.duration;
    record_.pid = 4242;
  }

  std::string line(std::string_view format) const {
    std::string out = "stale text is replaced";
    AccessLogFormat(format).format(record_, out);
    return out;
  }

  std::vector<AccessRecord::Header> request_headers_ = {{"HOST", "example.com"},
                                                        {"USER-AGENT", "curl/8.0 \"x\""},
                                                        {"REFERER", "http://ref/"},
                                                        {"AUTHORIZATION", "Basic dXNlcjpwYXNz"}};
  std::vector<AccessRecord::Header> response_headers_ = {{"Content-Type", "text/html"},
                                                         {"X-Trace", "a\"b"}};
  AccessRecord record_;
};

constexpr std::string_view kGunicornDefault =
    R"(%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s")";

TEST_F(AccessLogFormatTest, DefaultFormatMatchesGunicornByteForByte) {
  EXPECT_EQ(
      line(kGunicornDefault),
      R"(192.0.2.7 - user [25/Nov/2026:08:00:00 +0000] "GET /a%20b?x=1 HTTP/1.1" 200 1234 "http://ref/" "curl/8.0 \"x\"")");
}

TEST_F(AccessLogFormatTest, EveryAtomMatchesGunicorn) {
  record_.environ = [](std::string_view name) -> std::optional<std::string> {
    if (name == "REMOTE_PORT") return "5555";
    return std::nullopt;
  };
  EXPECT_EQ(
      line("%(u)s|%(m)s|%(U)s|%(q)s|%(H)s|%(B)s|%(T)s|%(D)s|%(M)s|%(L)s|%({host}i)s|"
           "%({X-Trace}o)s|%({remote_port}e)s|%({nope}i)s|%(zz)s|%(h)-12s|%(s)5s|%(a).4s|%%"),
      R"(user|GET|/a b|x=1|HTTP/1.1|1234|1|1234567|1234|1.234567|example.com|a\"b|5555|-|-|192.0.2.7   |  200|curl|%)");
  EXPECT_EQ(line("%(p)s"), "<4242>");
}

TEST_F(AccessLogFormatTest, ZeroBytesPrintsZeroAsGunicornDoes) {
  record_.response_length = 0;
  EXPECT_EQ(line("%(b)s %(B)s"), "0 0");
  record_.response_length.reset();
  EXPECT_EQ(line("%(b)s"), "-");
}

TEST_F(AccessLogFormatTest, MissingValuesPrintDash) {
  record_.request_headers = {};
  EXPECT_EQ(line("%(u)s %(f)s %(a)s %({host}i)s %({x}e)s"), "- - - - -");
}

// gunicorn: %(h)s is environ['REMOTE_ADDR'], '' for a unix-socket peer (gunicorn 20.1
// and 23 print "|-|" for "%(h)s|%(l)s|" there).
TEST_F(AccessLogFormatTest, AUnixSocketPeerPrintsAnEmptyHost) {
  record_.remote_addr = "";
  EXPECT_EQ(line("%(h)s|%(l)s|"), "|-|");
}

// Request bytes are latin-1 str in gunicorn, written out as UTF-8: raw "café" (C3 A9) is
// logged as C3 83 C2 A9, and a lone E9 as C3 A9 (gunicorn 20.1's output for the same bytes).
TEST_F(AccessLogFormatTest, NonAsciiBytesAreLoggedAsGunicornsLatin1StringsInUtf8) {
  record_.path = "/caf\xc3\xa9";
  request_headers_ = {{"User-Agent", "caf\xc3\xa9 \xe9"}, {"X-A", "\xff"}};
  record_.request_headers = request_headers_;
  response_headers_ = {{"X-B", "\xe9"}};
  record_.response_headers = response_headers_;
  EXPECT_EQ(line("%(U)s|%(a)s|%({x-a}i)s|%({x-b}o)s|%(U).4s|%(U)6s"),
            "/caf\xc3\x83\xc2\xa9|caf\xc3\x83\xc2\xa9 "
            "\xc3\xa9|\xc3\xbf|\xc3\xa9|/caf|/caf\xc3\x83\xc2\xa9");
}

// gunicorn decodes the Basic credentials as UTF-8: a UTF-8 user is logged as such, bytes
// that are not UTF-8 give no user.
TEST_F(AccessLogFormatTest, TheUserIsUtf8OrNothing) {
  request_headers_ = {{"Authorization", "Basic w6k6eA=="}};  // "\xc3\xa9:x"
  record_.request_headers = request_headers_;
  EXPECT_EQ(line("%(u)s"), "\xc3\xa9");
  request_headers_ = {{"Authorization", "Basic 6Tp4"}};  // "\xe9:x"
  record_.request_headers = request_headers_;
  EXPECT_EQ(line("%(u)s"), "-");
}

TEST_F(AccessLogFormatTest, UserNeedsBasicAuthWithAColon) {
  request_headers_ = {{"Authorization", "Bearer dXNlcjpwYXNz"}};
  record_.request_headers = request_headers_;
  EXPECT_EQ(line("%(u)s"), "-");
  request_headers_ = {{"Authorization", "Basic dXNlcg=="}};  // "user", no password part
  record_.request_headers = request_headers_;
  EXPECT_EQ(line("%(u)s"), "-");
  request_headers_ = {{"Authorization", "basic YWxpY2U6czNjcjN0"}};
  record_.request_headers = request_headers_;
  EXPECT_EQ(line("%(u)s"), "alice");
}

TEST_F(AccessLogFormatTest, HeaderAtomsAreCaseInsensitiveAndLastWins) {
  request_headers_ = {{"X-Id", "one"}, {"x-id", "two"}};
  record_.request_headers = request_headers_;
  EXPECT_EQ(line("%({X-ID}i)s %({content-type}O)s"), "two text/html");
}

TEST_F(AccessLogFormatTest, EnvironIsOnlyNeededWhenUsed) {
  EXPECT_FALSE(AccessLogFormat(kGunicornDefault).needs_environ());
  EXPECT_TRUE(AccessLogFormat("%({wsgi.url_scheme}e)s").needs_environ());
  record_.environ = [](std::string_view name) -> std::optional<std::string> {
    if (name == "wsgi.url_scheme") return "https";
    return std::nullopt;
  };
  EXPECT_EQ(line("%({wsgi.url_scheme}e)s"), "https");
}

TEST_F(AccessLogFormatTest, MalformedFormatsAreRejectedAtStart) {
  for (const char* bad : {"%(h", "%(h)", "%h", "100%", "%(h)-s%(", "%(t)y"}) {
    EXPECT_THROW(AccessLogFormat{bad}, std::invalid_argument) << bad;
  }
}

}  // namespace
}  // namespace gthreadd::log
