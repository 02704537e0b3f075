#include <gtest/gtest.h>

#include "wsgi_test_support.hpp"

namespace gthreadd::wsgi::test {
namespace {

std::string ops(const std::string& script, const std::string& body,
                http::RequestBody* spilled = nullptr) {
  TestRequest r("POST", "/");
  r.header("X-Ops", script).with_body(body);
  if (spilled != nullptr) {
    auto runner = make_runner("input_app");
    CollectingWriter w;
    auto out = runner->handle(r.req, *spilled, tcp_peer(), w);
    EXPECT_EQ(out.status, 200);
  } else {
    auto ex = run("input_app", r);
    EXPECT_EQ(ex.outcome.status, 200) << ex.raw;
  }
  return py_eval("seen['input']");
}

const std::string kBody = "line one\nline two\nlast";

TEST(InputStream, ReadAllAndSized) {
  EXPECT_EQ(ops("read", kBody), "[b'line one\\nline two\\nlast']");
  EXPECT_EQ(ops("read:4;read:100;read:5", kBody), "[b'line', b' one\\nline two\\nlast', b'']");
  EXPECT_EQ(ops("read:-1", kBody), "[b'line one\\nline two\\nlast']");
}

TEST(InputStream, ReadlineNeverPassesTheBody) {
  EXPECT_EQ(ops("readline;readline;readline;readline", kBody),
            "[b'line one\\n', b'line two\\n', b'last', b'']");
  EXPECT_EQ(ops("readline:4;readline;readline:0", kBody), "[b'line', b' one\\n', b'']");
}

TEST(InputStream, ReadlinesAndIteration) {
  EXPECT_EQ(ops("readlines", kBody), "[[b'line one\\n', b'line two\\n', b'last']]");
  EXPECT_EQ(ops("readlines:3", kBody), "[[b'line one\\n']]");
  EXPECT_EQ(ops("iter", kBody), "[[b'line one\\n', b'line two\\n', b'last']]");
  EXPECT_EQ(ops("read:5;iter", kBody), "[b'line ', [b'one\\n', b'line two\\n', b'last']]");
}

TEST(InputStream, EmptyBody) {
  EXPECT_EQ(ops("read;readline;readlines;iter", ""), "[b'', b'', [], []]");
}

TEST(InputStream, SpilledBodyReadsTheSameBytes) {
  http::RequestBody spilled("/tmp", 4);  // spills to a temporary file after 4 bytes
  spilled.append(kBody);
  ASSERT_FALSE(spilled.in_memory());
  EXPECT_EQ(ops("readline;read:3;readlines", kBody, &spilled),
            "[b'line one\\n', b'lin', [b'e two\\n', b'last']]");
}

TEST(InputStream, DetachedAfterTheRequest) {
  TestRequest r("POST", "/");
  r.with_body("secret");
  run("keep_input_app", r);
  // The body buffer is gone; a kept reference reads nothing instead of freed memory.
  EXPECT_EQ(py_eval("seen['kept_input'].read()"), "b''");
  py_exec("try:\n    seen['kept_start_response']('200 OK', [])\n    seen['late'] = 'accepted'\n"
          "except ValueError as e:\n    seen['late'] = 'refused'\n");
  EXPECT_EQ(py_eval("seen['late']"), "'refused'");
}

TEST(ErrorStream, WritesGoToTheLogAndDoNotFail) {
  TestRequest r("GET", "/");
  auto ex = run("errors_app", r);
  EXPECT_EQ(ex.outcome.status, 200);
  EXPECT_EQ(ex.response.body, "ok");
}

}  // namespace
}  // namespace gthreadd::wsgi::test
