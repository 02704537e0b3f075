// The request corpus in tests/data/requests: every case is fed whole, line by line and one
// byte at a time (each time from a fresh copy, so the buffer moves between calls), and must
// give the same outcome every way.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "gthreadd/http/chunked_decoder.hpp"
#include "gthreadd/http/request_body.hpp"
#include "gthreadd/http/request_parser.hpp"

namespace gthreadd::http {
namespace {

namespace fs = std::filesystem;

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    const char c = s[++i];
    if (c == 'r') out.push_back('\r');
    else if (c == 'n') out.push_back('\n');
    else if (c == 'x') {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else out.push_back(c);
  }
  return out;
}

struct Case {
  std::string name;
  std::string raw;
  std::multimap<std::string, std::string> expect;  // key → unescaped value, in file order
  ParseLimits limits;

  [[nodiscard]] bool has(const std::string& k) const { return expect.count(k) != 0; }
  [[nodiscard]] std::string get(const std::string& k) const { return expect.find(k)->second; }
};

Case load(const fs::path& http) {
  Case c;
  c.name = http.stem().string();
  c.raw = read_bytes(http);
  std::ifstream in(fs::path(http).replace_extension(".expect"));
  std::string line;
  while (std::getline(in, line)) {
    const auto sp = line.find(' ');
    const std::string key = line.substr(0, sp);
    const std::string value = sp == std::string::npos ? "" : unescape(line.substr(sp + 1));
    c.expect.emplace(key, value);
    if (key == "option") {
      if (value == "permit_unconventional_method") c.limits.permit_unconventional_method = true;
      else if (value == "permit_obsolete_folding") c.limits.permit_obsolete_folding = true;
      else if (value == "strip_header_spaces") c.limits.strip_header_spaces = true;
      else if (value == "casefold_method") c.limits.casefold_method = true;
      else if (value == "header_map_refuse") c.limits.header_map = HeaderMap::Refuse;
      else if (value == "header_map_dangerous") c.limits.header_map = HeaderMap::Dangerous;
      else ADD_FAILURE() << "unknown option " << value;
    } else if (key == "limit") {
      const auto eq = value.find('=');
      const std::string what = value.substr(0, eq);
      const auto n = std::stoull(value.substr(eq + 1));
      if (what == "request_line") c.limits.request_line = n;
      else if (what == "fields") c.limits.fields = n;
      else if (what == "field_size") c.limits.field_size = n;
      else if (what == "body") c.limits.body = n;
      else ADD_FAILURE() << "unknown limit " << what;
    }
  }
  return c;
}

std::vector<fs::path> list(const char* kind) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(GTHREADD_TEST_DATA) / "requests" / kind))
    if (e.path().extension() == ".http") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

enum class Feed { Whole, Lines, Bytes };
const char* feed_name(Feed f) {
  return f == Feed::Whole ? "whole" : f == Feed::Lines ? "lines" : "bytes";
}

struct HeadOutcome {
  std::optional<RequestParser> parser;
  ParseStatus status = ParseStatus::Incomplete;
  int error_status = 0;
  std::string buffer;  // the last buffer fed (`request` has its own copy of the head)
  Request request;
};

void parse_head(const Case& c, Feed feed, HeadOutcome& o) {
  std::vector<std::size_t> cuts;
  if (feed == Feed::Bytes)
    for (std::size_t i = 1; i <= c.raw.size(); ++i) cuts.push_back(i);
  if (feed == Feed::Lines)
    for (std::size_t i = 0; i < c.raw.size(); ++i)
      if (c.raw[i] == '\n') cuts.push_back(i + 1);
  cuts.push_back(c.raw.size());
  RequestParser& parser = o.parser.emplace(c.limits);
  for (std::size_t cut : cuts) {
    o.buffer.assign(c.raw, 0, cut);  // a fresh copy: resumption must use offsets only
    o.buffer.shrink_to_fit();
    o.status = parser.parse(o.buffer, o.request);
    if (o.status == ParseStatus::Error) o.error_status = parser.error().status;
    if (o.status != ParseStatus::Incomplete) {
      // Byte by byte, completion is noticed exactly when the final CRLF arrives.
      if (feed == Feed::Bytes && o.status == ParseStatus::Complete) {
        EXPECT_EQ(o.request.head_length, cut);
      }
      return;
    }
  }
}

struct BodyOutcome {
  ChunkedDecoder::Status status = ChunkedDecoder::Status::NeedMore;
  int error_status = 0;
  std::string body;
  std::size_t rest = 0;  // bytes left after the body
};

// Feeds `input` `step` bytes at a time, keeping what the decoder did not consume.
BodyOutcome decode_chunked(std::string_view input, std::uint64_t limit, std::size_t step) {
  BodyOutcome o;
  ChunkedDecoder decoder(limit);
  RequestBody body;
  std::string window;
  std::size_t fed = 0;
  do {
    const std::size_t n = std::min(step, input.size() - fed);
    window.append(input.substr(fed, n));
    fed += n;
    const auto r = decoder.feed(window, body);
    EXPECT_LE(r.consumed, window.size());
    window.erase(0, r.consumed);
    o.status = r.status;
    if (r.status == ChunkedDecoder::Status::Error) {
      o.error_status = decoder.error_status();
      break;
    }
    if (r.status == ChunkedDecoder::Status::Done) {
      o.rest = window.size() + (input.size() - fed);
      break;
    }
  } while (fed < input.size());
  o.body.resize(body.size());
  body.read(0, o.body.data(), o.body.size());
  return o;
}

std::string framing_name(BodyFraming f) {
  return f == BodyFraming::None ? "none" : f == BodyFraming::ContentLength ? "length" : "chunked";
}

class ValidCorpus : public ::testing::TestWithParam<fs::path> {};
class InvalidCorpus : public ::testing::TestWithParam<fs::path> {};

TEST_P(ValidCorpus, ParsesTheSameFedWholeByLinesAndByBytes) {
  const Case c = load(GetParam());
  for (Feed feed : {Feed::Whole, Feed::Lines, Feed::Bytes}) {
    SCOPED_TRACE(feed_name(feed));
    HeadOutcome o;
    parse_head(c, feed, o);
    ASSERT_EQ(o.status, ParseStatus::Complete) << "error status " << o.error_status;
    const Request& r = o.request;
    if (c.has("method")) {
      EXPECT_EQ(r.method, c.get("method"));
    }
    if (c.has("target")) {
      EXPECT_EQ(r.target, c.get("target"));
    }
    if (c.has("path")) {
      EXPECT_EQ(r.path, c.get("path"));
    }
    if (c.has("query")) {
      EXPECT_EQ(r.query, c.get("query"));
    }
    if (c.has("version")) {
      EXPECT_EQ(r.version_minor, std::stoi(c.get("version")));
    }
    if (c.has("framing")) {
      EXPECT_EQ(framing_name(r.framing), c.get("framing"));
    }
    if (c.has("content_length")) {
      EXPECT_EQ(r.content_length, std::stoull(c.get("content_length")));
    }
    if (c.has("keep_alive")) {
      EXPECT_EQ(r.keep_alive, c.get("keep_alive") == "1");
    }
    if (c.has("expect_continue")) {
      EXPECT_EQ(r.expect_continue, c.get("expect_continue") == "1");
    }
    if (c.has("headers")) {
      std::vector<std::string> want, got;
      for (auto [it, end] = c.expect.equal_range("header"); it != end; ++it)
        want.push_back(it->second);
      for (const auto& h : r.headers)
        got.push_back(std::string(h.name) + ": " + std::string(h.value));
      EXPECT_EQ(got, want);
    }
    const std::string_view rest = std::string_view(c.raw).substr(r.head_length);
    if (r.framing == BodyFraming::Chunked) {
      for (std::size_t step : {rest.size() + 1, std::size_t{1}, std::size_t{3}}) {
        const BodyOutcome b = decode_chunked(rest, c.limits.body, step);
        ASSERT_EQ(b.status, ChunkedDecoder::Status::Done)
            << "step " << step << " error " << b.error_status;
        if (c.has("body")) {
          EXPECT_EQ(b.body, c.get("body"));
        }
        if (c.has("rest")) {
          EXPECT_EQ(b.rest, std::stoull(c.get("rest")));
        }
      }
    } else {
      const std::size_t len = r.framing == BodyFraming::ContentLength ? r.content_length : 0;
      if (c.has("body")) {
        EXPECT_EQ(rest.substr(0, len), c.get("body"));
      }
      if (c.has("rest")) {
        EXPECT_EQ(rest.size() - std::min(len, rest.size()), std::stoull(c.get("rest")));
      }
    }
  }
}

TEST_P(InvalidCorpus, IsRejectedWithTheSameStatusHoweverFed) {
  const Case c = load(GetParam());
  ASSERT_TRUE(c.has("status"));
  const int want = std::stoi(c.get("status"));
  for (Feed feed : {Feed::Whole, Feed::Lines, Feed::Bytes}) {
    SCOPED_TRACE(feed_name(feed));
    HeadOutcome o;
    parse_head(c, feed, o);
    if (o.status == ParseStatus::Error) {
      EXPECT_EQ(o.error_status, want);
      continue;
    }
    // The head is fine: the error must be in the chunked body.
    ASSERT_EQ(o.status, ParseStatus::Complete) << "neither rejected nor complete";
    ASSERT_EQ(o.request.framing, BodyFraming::Chunked) << "accepted an invalid request";
    const std::string_view rest = std::string_view(c.raw).substr(o.request.head_length);
    for (std::size_t step : {rest.size() + 1, std::size_t{1}}) {
      const BodyOutcome b = decode_chunked(rest, c.limits.body, step);
      ASSERT_EQ(b.status, ChunkedDecoder::Status::Error) << "step " << step;
      EXPECT_EQ(b.error_status, want) << "step " << step;
    }
  }
}

std::string case_name(const ::testing::TestParamInfo<fs::path>& info) {
  std::string n = info.param.stem().string();
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Requests, ValidCorpus, ::testing::ValuesIn(list("valid")), case_name);
INSTANTIATE_TEST_SUITE_P(Requests, InvalidCorpus, ::testing::ValuesIn(list("invalid")), case_name);

TEST(Corpus, IsLargeEnough) { EXPECT_GE(list("valid").size() + list("invalid").size(), 60u); }

}  // namespace
}  // namespace gthreadd::http
