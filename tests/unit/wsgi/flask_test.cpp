// A real framework through the bridge: Flask's JSON, request body and send_file paths.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "wsgi_test_support.hpp"

namespace gthreadd::wsgi::test {
namespace {

Exchange flask_run(TestRequest& r) {
  auto runner =
      with_gil([] { return std::make_unique<AppRunner>(app_settings("app", "wsgi_unit_flask")); });
  CollectingWriter w;
  Exchange ex;
  ex.outcome = runner->handle(r.req, r.body, tcp_peer(), w);
  ex.raw = w.data;
  ex.response = parse_response(w.data);
  return ex;
}

TEST(Flask, JsonRoute) {
  TestRequest r("GET", "/json");
  r.header("Host", "localhost");
  auto ex = flask_run(r);
  EXPECT_EQ(ex.outcome.status, 200) << ex.raw;
  EXPECT_EQ(ex.response.get("content-type"), "application/json");
  EXPECT_NE(ex.response.body.find("\"hello\":\"world\""), std::string::npos) << ex.response.body;
  EXPECT_TRUE(ex.outcome.keep_alive);
}

TEST(Flask, PostBodyIsEchoedByteForByte) {
  std::string body;
  for (int i = 0; i < 256; ++i) body.push_back(static_cast<char>(i));
  TestRequest r("POST", "/echo");
  r.header("Host", "localhost")
      .header("Content-Length", std::to_string(body.size()))
      .with_body(body);
  auto ex = flask_run(r);
  EXPECT_EQ(ex.outcome.status, 200) << ex.raw;
  EXPECT_EQ(ex.response.body, body);
}

TEST(Flask, SendFileGoesThroughFileWrapper) {
  TestRequest r("GET", "/file");
  r.header("Host", "localhost");
  auto runner =
      with_gil([] { return std::make_unique<AppRunner>(app_settings("app", "wsgi_unit_flask")); });
  CollectingWriter w;
  auto out = runner->handle(r.req, r.body, tcp_peer(), w);
  std::ifstream f(std::string(GTHREADD_TEST_APPS) + "/unit/wsgi_unit_flask.py");
  std::stringstream expected;
  expected << f.rdbuf();
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(w.sendfile_calls, 1);
  EXPECT_EQ(parse_response(w.data).body, expected.str());
}

TEST(Flask, NotFoundIsTheAppsOwn404) {
  TestRequest r("GET", "/missing");
  r.header("Host", "localhost");
  auto ex = flask_run(r);
  EXPECT_EQ(ex.outcome.status, 404);
  EXPECT_TRUE(ex.outcome.keep_alive);
}

}  // namespace
}  // namespace gthreadd::wsgi::test
