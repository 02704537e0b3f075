// The control socket's JSON and framing (master/control_json, master/control_protocol):
// what gunicorn's gunicornc sends must parse, what a hostile client sends must be refused
// without harm.
#include <gtest/gtest.h>

#include <string>

#include "gthreadd/master/control_json.hpp"
#include "gthreadd/master/control_protocol.hpp"

namespace gthreadd::master {
namespace {

Json parse_ok(const std::string& text) {
  std::string error;
  auto v = Json::parse(text, error);
  EXPECT_TRUE(v) << text << ": " << error;
  return v ? *v : Json();
}

std::string parse_error(const std::string& text) {
  std::string error;
  EXPECT_FALSE(Json::parse(text, error)) << text;
  return error;
}

TEST(ControlJson, ParsesGunicornsRequest) {
  const Json r = parse_ok(R"({"id": 1, "command": "show", "args": ["workers"]})");
  ASSERT_TRUE(r.find("id") && r.find("id")->integer());
  EXPECT_EQ(*r.find("id")->integer(), 1);
  EXPECT_EQ(*r.find("command")->string(), "show");
  ASSERT_TRUE(r.find("args")->array());
  EXPECT_EQ(r.find("args")->array()->size(), 1u);
}

TEST(ControlJson, StringEscapesAndUnicode) {
  const Json s = parse_ok(R"("a\"b\\c\n\u00e9\ud83d\ude00")");
  EXPECT_EQ(*s.string(), "a\"b\\c\n\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(Json("tab\there\x01").dump(), R"("tab\there\u0001")");
}

TEST(ControlJson, NumbersKeepTheirKind) {
  EXPECT_EQ(*parse_ok("-42").integer(), -42);
  EXPECT_DOUBLE_EQ(*parse_ok("0.25").real(), 0.25);
  EXPECT_EQ(Json(0.2).dump(), "0.2");  // shortest form, not 0.20000000000000001
  EXPECT_EQ(parse_ok("1e3").dump(), "1000");
}

TEST(ControlJson, RefusesMalformedInput) {
  for (const char* bad : {"", "{", "{not json", "[1,]", "{\"a\" 1}", "\"open", "tru", "1 2",
                          "\"\\x\"", "\"\x01\"", "nan", "-", "{\"a\":1,}"}) {
    EXPECT_FALSE(parse_error(bad).empty()) << bad;
  }
  EXPECT_NE(parse_error("{\"a\": 1} x").find("trailing"), std::string::npos);
}

TEST(ControlJson, BoundsNesting) {
  std::string deep(100000, '[');
  EXPECT_NE(parse_error(deep).find("nested too deeply"), std::string::npos);
  std::string ok = std::string(30, '[') + std::string(30, ']');
  parse_ok(ok);
}

TEST(ControlJson, DumpsPretty) {
  const Json v(Json::Object{{"a", 1}, {"b", Json::Array{true, nullptr}}});
  EXPECT_EQ(v.dump(), R"({"a": 1, "b": [true, null]})");
  EXPECT_EQ(v.dump(2), "{\n  \"a\": 1,\n  \"b\": [\n    true,\n    null\n  ]\n}");
}

TEST(ControlFrames, RoundTripAndPartialReads) {
  const std::string frame = encode_frame(make_request(7, "show stats"));
  ASSERT_GE(frame.size(), 4u);
  FrameReader reader(kMaxRequest);
  std::string payload;
  reader.feed(frame.substr(0, 3));
  EXPECT_EQ(reader.next(payload), FrameReader::Status::Incomplete);
  reader.feed(frame.substr(3, 5));
  EXPECT_EQ(reader.next(payload), FrameReader::Status::Incomplete);
  EXPECT_TRUE(reader.partial());
  reader.feed(frame.substr(8) + frame);  // the rest, and a second message behind it
  EXPECT_EQ(reader.next(payload), FrameReader::Status::Message);
  EXPECT_EQ(payload, frame.substr(4));
  EXPECT_EQ(reader.next(payload), FrameReader::Status::Message);
  EXPECT_EQ(reader.next(payload), FrameReader::Status::Incomplete);
  EXPECT_FALSE(reader.partial());
}

TEST(ControlFrames, RefusesAnOversizedLength) {
  FrameReader reader(kMaxRequest);
  std::string payload;
  reader.feed("show workers\n");  // no length prefix: "show" reads as ~1.9 GB
  EXPECT_EQ(reader.next(payload), FrameReader::Status::TooLarge);
}

TEST(ControlRequest, CommandWordsJoinCommandAndArgs) {
  std::string error;
  auto words = command_words(parse_ok(R"({"command": "worker add", "args": [2]})"), error);
  EXPECT_TRUE(error.empty());
  EXPECT_EQ(words, (std::vector<std::string>{"worker", "add", "2"}));
  words = command_words(parse_ok(R"({"command": "  show   workers "})"), error);
  EXPECT_EQ(words, (std::vector<std::string>{"show", "workers"}));
}

TEST(ControlRequest, BadShapesAreErrors) {
  for (const char* bad : {R"([1])", R"({"id": 1})", R"({"command": 5})", R"({"command": ""})",
                          R"({"command": "show", "args": "workers"})"}) {
    std::string error;
    command_words(parse_ok(bad), error);
    EXPECT_FALSE(error.empty()) << bad;
  }
}

}  // namespace
}  // namespace gthreadd::master
