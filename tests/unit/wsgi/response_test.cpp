// start_response validation, framing and exception handling, seen on the wire.
#include <gtest/gtest.h>

#include <unistd.h>
#include <fstream>

#include "wsgi_test_support.hpp"

namespace gthreadd::wsgi::test {
namespace {

Exchange status_run(const std::string& status, std::vector<std::string> headers = {},
                    const std::string& body = "hello", const std::string& mode = "list",
                    const std::string& method = "GET", int minor = 1) {
  TestRequest r(method, "/", minor);
  r.header("X-Status", status).header("X-Body", body).header("X-Mode", mode);
  for (std::size_t i = 0; i < headers.size(); ++i)
    r.header("X-Header-" + std::to_string(i), headers[i]);
  return run("status_app", r);
}

void expect_500(const Exchange& ex) {
  EXPECT_EQ(ex.outcome.status, 500) << ex.raw;
  EXPECT_EQ(ex.response.status_line, "HTTP/1.1 500 Internal Server Error") << ex.raw;
  EXPECT_FALSE(ex.outcome.keep_alive);
}

TEST(Response, ListBodyGetsContentLengthDateAndServer) {
  auto ex = status_run("200 OK", {"Content-Type=text/plain"});
  EXPECT_EQ(ex.response.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(ex.response.get("content-length"), "5");
  EXPECT_EQ(ex.response.get("content-type"), "text/plain");
  EXPECT_EQ(ex.response.get("server"), "gthreadd");
  EXPECT_EQ(ex.response.get("date").size(), 29u);
  EXPECT_EQ(ex.response.count("transfer-encoding"), 0u);
  EXPECT_EQ(ex.response.body, "hello");
  EXPECT_TRUE(ex.outcome.keep_alive);
  EXPECT_EQ(ex.outcome.body_bytes, 5u);
}

TEST(Response, AppServerHeaderIsNotDoubled) {
  auto ex = status_run("200 OK", {"Server=custom"});
  EXPECT_EQ(ex.response.count("server"), 1u);
  EXPECT_EQ(ex.response.get("server"), "custom");
}

TEST(Response, GeneratorOnHttp11IsChunked) {
  auto ex = status_run("200 OK", {}, "abc", "gen");
  EXPECT_EQ(ex.response.get("transfer-encoding"), "chunked");
  EXPECT_EQ(ex.response.body, "1\r\na\r\n1\r\nb\r\n1\r\nc\r\n0\r\n\r\n");
  EXPECT_TRUE(ex.outcome.keep_alive);
}

TEST(Response, GeneratorOnHttp10IsCloseDelimited) {
  auto ex = status_run("200 OK", {}, "abc", "gen", "GET", 0);
  EXPECT_EQ(ex.response.count("transfer-encoding"), 0u);
  EXPECT_EQ(ex.response.count("content-length"), 0u);
  EXPECT_EQ(ex.response.get("connection"), "close");
  EXPECT_EQ(ex.response.body, "abc");
  EXPECT_FALSE(ex.outcome.keep_alive);
}

TEST(Response, Http10KeepAliveIsAnnounced) {
  TestRequest r("GET", "/", 0);
  r.req.keep_alive = true;  // the client sent "Connection: keep-alive"
  auto ex = run("status_app", r);
  EXPECT_EQ(ex.response.get("connection"), "keep-alive");
  EXPECT_TRUE(ex.outcome.keep_alive);
}

TEST(Response, OverLongBodyIsTruncatedAtContentLength) {
  auto ex = status_run("200 OK", {"Content-Length=3"}, "abcdef", "gen");
  EXPECT_EQ(ex.response.body, "abc");
  EXPECT_TRUE(ex.outcome.keep_alive);
}

TEST(Response, UnderLongBodyClosesTheConnection) {
  auto ex = status_run("200 OK", {"Content-Length=10"}, "abc");
  EXPECT_EQ(ex.response.body, "abc");
  EXPECT_FALSE(ex.outcome.keep_alive);
}

TEST(Response, HeadHasNoBodyButItsLength) {
  auto ex = status_run("200 OK", {}, "abcdef", "gen", "HEAD");
  EXPECT_EQ(ex.response.body, "");
  EXPECT_EQ(ex.response.get("content-length"), "6");
  EXPECT_TRUE(ex.outcome.keep_alive);
}

TEST(Response, NoBodyFor204And304) {
  for (const char* status : {"204 No Content", "304 Not Modified"}) {
    auto ex = status_run(status, {}, "ignored", "gen");
    EXPECT_EQ(ex.response.body, "") << status;
    EXPECT_EQ(ex.response.count("transfer-encoding"), 0u) << status;
    EXPECT_EQ(ex.response.count("content-length"), 0u) << status;
    EXPECT_TRUE(ex.outcome.keep_alive) << status;
  }
}

TEST(Response, HopByHopHeadersAreDroppedButConnectionCloseIsHonoured) {
  auto ex = status_run("200 OK", {"Connection=close", "Keep-Alive=timeout=5",
                                  "Transfer-Encoding=chunked", "Upgrade=h2c", "X-Kept=1"});
  EXPECT_EQ(ex.response.count("keep-alive"), 0u);
  EXPECT_EQ(ex.response.count("upgrade"), 0u);
  EXPECT_EQ(ex.response.count("transfer-encoding"), 0u);
  EXPECT_EQ(ex.response.count("connection"), 1u);
  EXPECT_EQ(ex.response.get("connection"), "close");
  EXPECT_EQ(ex.response.get("x-kept"), "1");
  EXPECT_FALSE(ex.outcome.keep_alive);
}

TEST(Response, InvalidStatusIs500) {
  for (const char* status : {"200", "20 OK", "abc OK", "099 Low", "200 O\x01K", "2000 OK"}) {
    auto ex = status_run(status);
    SCOPED_TRACE(status);
    expect_500(ex);
    EXPECT_EQ(ex.raw.find("hello"), std::string::npos);
  }
}

TEST(Response, InvalidHeadersAre500AndNeverInjected) {
  for (const char* app :
       {"bad_header_value_app", "bad_header_name_app", "two_lengths_app", "bad_length_app",
        "non_latin1_app", "str_body_app", "no_start_response_app"}) {
    SCOPED_TRACE(app);
    TestRequest r("GET", "/");
    auto ex = run(app, r);
    expect_500(ex);
    EXPECT_EQ(ex.raw.find("pwned"), std::string::npos);
  }
}

TEST(Response, ExceptionBefore500ThenTheNextRequestIsFine) {
  auto runner = make_runner("raising_app");
  TestRequest r("GET", "/x");
  CollectingWriter w;
  auto out = runner->handle(r.req, r.body, tcp_peer(), w);
  EXPECT_EQ(out.status, 500);
  EXPECT_FALSE(out.keep_alive);

  TestRequest ok("GET", "/");
  auto ex = run("status_app", ok);
  EXPECT_EQ(ex.outcome.status, 200);
  EXPECT_EQ(ex.response.body, "hello");
}

TEST(Response, ExceptionAfterHeadersClosesWithoutLastChunk) {
  TestRequest r("GET", "/");
  auto ex = run("raising_after_headers_app", r);
  EXPECT_EQ(ex.response.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(ex.response.body, "5\r\nfirst\r\n");  // no "0\r\n\r\n": the client sees it cut short
  EXPECT_FALSE(ex.outcome.keep_alive);
  EXPECT_EQ(ex.raw.find("500"), std::string::npos);
}

TEST(Response, ExcInfoBeforeHeadersReplacesThem) {
  TestRequest r("GET", "/");
  auto ex = run("exc_info_before_headers_app", r);
  EXPECT_EQ(ex.response.status_line, "HTTP/1.1 503 Service Unavailable");
  EXPECT_EQ(ex.response.count("x-first"), 0u);
  EXPECT_EQ(ex.response.get("x-second"), "1");
  EXPECT_EQ(ex.response.body, "replaced");
}

TEST(Response, ExcInfoAfterHeadersReRaises) {
  TestRequest r("GET", "/");
  auto ex = run("exc_info_after_headers_app", r);
  EXPECT_EQ(py_eval("seen['reraised']"), "'late'");
  EXPECT_EQ(ex.response.status_line, "HTTP/1.1 200 OK");
  EXPECT_FALSE(ex.outcome.keep_alive);
}

TEST(Response, SecondStartResponseWithoutExcInfoIsAnError) {
  TestRequest r("GET", "/");
  auto ex = run("second_call_app", r);
  EXPECT_EQ(ex.outcome.status, 200);
  EXPECT_NE(py_eval("seen['second_call']").find("second time"), std::string::npos);
}

TEST(Response, WriteCallableSendsHeadersFirst) {
  TestRequest r("GET", "/");
  auto ex = run("write_app", r);
  EXPECT_EQ(ex.response.get("transfer-encoding"), "chunked");
  EXPECT_EQ(ex.response.body, "4\r\none,\r\n4\r\ntwo,\r\n5\r\nthree\r\n0\r\n\r\n");
  EXPECT_TRUE(ex.outcome.keep_alive);
}

TEST(Response, CloseIsCalledExactlyOnce) {
  for (const char* fail : {"0", "1"}) {
    py_exec("seen['close_calls'] = 0");
    TestRequest r("GET", "/");
    r.header("X-Fail", fail);
    auto ex = run("closing_app", r);
    EXPECT_EQ(py_eval("seen['close_calls']"), "1") << fail;
    EXPECT_EQ(ex.outcome.status, std::string(fail) == "1" ? 500 : 200);
  }
  py_exec("seen['close_calls'] = 0");
  TestRequest r("GET", "/");
  auto ex = run("closing_bad_item_app", r);
  EXPECT_EQ(py_eval("seen['close_calls']"), "1");
  EXPECT_FALSE(ex.outcome.keep_alive);
}

TEST(Response, PeerGoneStopsIterationAndCloses) {
  py_exec("seen['close_calls'] = 0");
  auto runner = make_runner("closing_app");
  TestRequest r("GET", "/");
  CollectingWriter w;
  w.fail = true;
  auto out = runner->handle(r.req, r.body, tcp_peer(), w);
  EXPECT_FALSE(out.keep_alive);
  EXPECT_EQ(w.send_calls, 1);  // nothing more after the first failed write
  EXPECT_EQ(py_eval("seen['close_calls']"), "1");
}

class FileWrapperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One file per process and test: ctest runs these tests in parallel processes, and a
    // shared name let one test's TearDown delete the file another was serving.
    path_ = ::testing::TempDir() + "gthreadd_wsgi_file_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".txt";
    std::ofstream(path_) << "0123456789abcdefghij";
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
};

TEST_F(FileWrapperTest, RegularFileUsesSendfileWithItsLength) {
  TestRequest r("GET", "/");
  r.header("X-File", path_);
  auto runner = make_runner("file_app");
  CollectingWriter w;
  auto out = runner->handle(r.req, r.body, tcp_peer(), w);
  auto resp = parse_response(w.data);
  EXPECT_EQ(w.sendfile_calls, 1);
  EXPECT_EQ(resp.get("content-length"), "20");
  EXPECT_EQ(resp.body, "0123456789abcdefghij");
  EXPECT_TRUE(out.keep_alive);
}

TEST_F(FileWrapperTest, SendfileStartsAtTheFilePositionAndRespectsContentLength) {
  TestRequest r("GET", "/");
  r.header("X-File", path_).header("X-Skip", "5").header("X-Length", "4");
  auto runner = make_runner("file_app");
  CollectingWriter w;
  runner->handle(r.req, r.body, tcp_peer(), w);
  auto resp = parse_response(w.data);
  EXPECT_EQ(resp.get("content-length"), "4");
  EXPECT_EQ(resp.body, "5678");
}

TEST_F(FileWrapperTest, HeadSendsNoFileBytes) {
  TestRequest r("HEAD", "/");
  r.header("X-File", path_);
  auto ex = run("file_app", r);
  EXPECT_EQ(ex.response.get("content-length"), "20");
  EXPECT_EQ(ex.response.body, "");
}

TEST(FileWrapper, ObjectWithoutARealFdIsIterated) {
  TestRequest r("GET", "/");
  auto runner = make_runner("bytesio_file_app");
  CollectingWriter w;
  runner->handle(r.req, r.body, tcp_peer(), w);
  auto resp = parse_response(w.data);
  EXPECT_EQ(w.sendfile_calls, 0);
  EXPECT_EQ(resp.get("transfer-encoding"), "chunked");
  EXPECT_EQ(resp.body, "4\r\nin m\r\n4\r\nemor\r\n4\r\ny fi\r\n2\r\nle\r\n0\r\n\r\n");
}

}  // namespace
}  // namespace gthreadd::wsgi::test
