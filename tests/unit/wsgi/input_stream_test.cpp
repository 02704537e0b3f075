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

// A read of exactly one piece of the body (here: the whole of a one-piece body) hands that
// piece itself to Python when the allocators allow it (no copy); the bytes must be the same
// either way and outlive the body.
void read_whole(const std::string& big, bool expect_adopted) {
  TestRequest r("POST", "/");
  r.header("X-Ops", "read");
  r.body.expect(big.size());  // exactly sized, as the loop does for Content-Length
  ASSERT_TRUE(r.body.append(big));
  r.req.framing = http::BodyFraming::ContentLength;
  r.req.content_length = big.size();
  auto ex = run("input_app", r);
  EXPECT_EQ(ex.outcome.status, 200) << ex.raw;
  EXPECT_EQ(r.body.capacity() == 0, expect_adopted);
  r.body.clear();  // as the loop does after the response
  EXPECT_EQ(py_eval("len(seen['input'][0])"), std::to_string(big.size()));
  EXPECT_EQ(py_eval("seen['input'][0][:3] + seen['input'][0][-3:]"), "b'abcxyz'");
  // The hash starts uncomputed: equal bytes built by Python hash the same.
  EXPECT_EQ(
      py_eval(
          "hash(seen['input'][0]) == hash(b'abc' + b'm' * (len(seen['input'][0]) - 6) + b'xyz')"),
      "True");
  py_exec("seen.clear()");  // frees the adopted bytes (checked by ASan builds)
}

std::string big_body(std::size_t n) { return "abc" + std::string(n - 6, 'm') + "xyz"; }

bool adoptable_allocator() {
  return with_gil([] {
    const char* name = _PyMem_GetCurrentAllocatorName();
    return name != nullptr && (std::string(name) == "pymalloc" || std::string(name) == "malloc");
  });
}

TEST(InputStream, WholeOnePieceBodyIsTheReceiveBuffer) {
  read_whole(big_body(http::RequestBody::kPiece), adoptable_allocator());
  read_whole(big_body(40000), adoptable_allocator());
}

TEST(InputStream, WholeBodyIsCopiedUnderAnAllocatorHook) {
  py_exec("import tracemalloc\ntracemalloc.start()");
  read_whole(big_body(http::RequestBody::kPiece), false);
  py_exec("tracemalloc.stop()");
}

TEST(InputStream, SmallOrPartialReadsCopy) {
  read_whole(big_body(1000), false);
  read_whole(big_body(256 * 1024), false);  // the whole of a body of several pieces
  TestRequest r("POST", "/");
  const std::string big = big_body(200 * 1024);
  r.header("X-Ops", "read:3;read").with_body(big);
  auto ex = run("input_app", r);
  EXPECT_EQ(ex.outcome.status, 200);
  EXPECT_NE(r.body.capacity(), 0u);
  EXPECT_EQ(py_eval("seen['input'][0] + seen['input'][1][-3:]"), "b'abcxyz'");
}

// read(64 KiB) chunks, as Django's and werkzeug's form parsers read: each one that is a
// whole piece is that piece; unaligned reads copy and later aligned ones still adopt.
TEST(InputStream, PieceSizedReadsArePieces) {
  const std::size_t piece = http::RequestBody::kPiece;
  const std::size_t length = 4 * piece + 20000;
  const std::string big = big_body(length);
  TestRequest r("POST", "/");
  r.header("X-Ops", "read:65536;read:65536;read:10;readline:100;read:65426;read:65536;read:100000");
  r.body.expect(length);
  ASSERT_TRUE(r.body.append(big));
  r.req.framing = http::BodyFraming::ContentLength;
  r.req.content_length = length;
  auto ex = run("input_app", r);
  EXPECT_EQ(ex.outcome.status, 200) << ex.raw;
  // All pieces but the one read in three parts were handed over (read(100000) is the rest
  // of the body, the whole last piece).
  const bool adopted = adoptable_allocator();
  EXPECT_EQ(r.body.capacity(), adopted ? piece : length);
  r.body.clear();
  EXPECT_EQ(py_eval("[len(b) for b in seen['input']]"),
            "[65536, 65536, 10, 100, 65426, 65536, 20000]");
  EXPECT_EQ(py_eval("b''.join(seen['input']) == b'abc' + b'm' * (" + std::to_string(length - 6) +
                    ") + b'xyz'"),
            "True");
  py_exec("seen.clear()");
}

TEST(InputStream, DetachedAfterTheRequest) {
  TestRequest r("POST", "/");
  r.with_body("secret");
  run("keep_input_app", r);
  // The body buffer is gone; a kept reference reads nothing instead of freed memory.
  EXPECT_EQ(py_eval("seen['kept_input'].read()"), "b''");
  py_exec(
      "try:\n    seen['kept_start_response']('200 OK', [])\n    seen['late'] = 'accepted'\n"
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
