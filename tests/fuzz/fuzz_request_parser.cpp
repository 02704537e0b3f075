// libFuzzer target: the request parser and the chunked decoder must never crash, never
// read outside the input, and must reach the same verdict however the bytes are split.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gthreadd/http/chunked_decoder.hpp"
#include "gthreadd/http/request_body.hpp"
#include "gthreadd/http/request_parser.hpp"

namespace {

using namespace gthreadd::http;

void check(bool ok) {
  if (!ok) std::abort();  // a disagreement is a finding, like a crash
}

struct Verdict {
  ParseStatus status = ParseStatus::Incomplete;
  int error = 0;
};

Verdict parse_whole(RequestParser& p, std::string_view in, Request& r) {
  const ParseStatus s = p.parse(in, r);
  return {s, s == ParseStatus::Error ? p.error().status : 0};
}

// Feeds growing prefixes ending at each of `cuts`, then the whole input.
Verdict parse_split(RequestParser& p, std::string_view in, Request& r, std::size_t step) {
  for (std::size_t n = step; n < in.size(); n += step) {
    const ParseStatus s = p.parse(in.substr(0, n), r);
    if (s != ParseStatus::Incomplete) return {s, s == ParseStatus::Error ? p.error().status : 0};
  }
  return parse_whole(p, in, r);
}

bool same_request(const Request& a, const Request& b) {
  if (a.method != b.method || a.target != b.target || a.path != b.path || a.query != b.query ||
      a.version_minor != b.version_minor || a.framing != b.framing ||
      a.content_length != b.content_length || a.keep_alive != b.keep_alive ||
      a.expect_continue != b.expect_continue || a.head_length != b.head_length ||
      a.headers.size() != b.headers.size())
    return false;
  for (std::size_t i = 0; i < a.headers.size(); ++i)
    if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value)
      return false;
  return true;
}

void fuzz_head(std::string_view in, const ParseLimits& limits, bool trusted) {
  RequestParser whole(limits), split(limits), dribble(limits);
  whole.set_trusted_forwarder(trusted);
  split.set_trusted_forwarder(trusted);
  dribble.set_trusted_forwarder(trusted);
  Request rw, rs, rd;
  Verdict vw;
  {
    // Parsed from a heap copy that is freed at once: the Request must own everything it
    // points to (issue 10), or ASan reports the comparisons below.
    std::string copy(in);
    vw = parse_whole(whole, copy, rw);
  }
  const Verdict vs = parse_split(split, in, rs, in.size() / 3 + 1);
  check(vw.status == vs.status && vw.error == vs.error);
  if (in.size() <= 2048) {  // byte-at-a-time is O(n) for the parser, O(n^2) for us: bound it
    const Verdict vd = parse_split(dribble, in, rd, 1);
    check(vw.status == vd.status && vw.error == vd.error);
    if (vw.status == ParseStatus::Complete) check(same_request(rw, rd));
  }
  if (vw.status == ParseStatus::Error) {
    const int e = vw.error;
    check(e == 400 || e == 413 || e == 414 || e == 431 || e == 501 || e == 505);
    return;
  }
  if (vw.status != ParseStatus::Complete) return;
  check(same_request(rw, rs));
  check(rw.head_length <= in.size());
  check(rw.framing != BodyFraming::Chunked || rw.version_minor == 1);
}

struct Decoded {
  ChunkedDecoder::Status status = ChunkedDecoder::Status::NeedMore;
  int error = 0;
  std::size_t consumed = 0;
  std::string body;
};

Decoded decode(std::string_view in, std::size_t step, std::uint64_t limit) {
  ChunkedDecoder d(limit);
  RequestBody body("/tmp", 1 << 16);
  std::string window;
  Decoded out;
  for (std::size_t fed = 0; fed < in.size();) {
    const std::size_t n = std::min(step, in.size() - fed);
    window.append(in.substr(fed, n));
    fed += n;
    const auto r = d.feed(window, body);
    check(r.consumed <= window.size());
    out.consumed += r.consumed;
    window.erase(0, r.consumed);
    out.status = r.status;
    if (r.status == ChunkedDecoder::Status::Error) {
      out.error = d.error_status();
      break;
    }
    if (r.status == ChunkedDecoder::Status::Done) break;
  }
  out.body.resize(body.size());
  check(body.read(0, out.body.data(), out.body.size()) == out.body.size());
  return out;
}

void fuzz_chunked(std::string_view in) {
  const std::uint64_t limit = 4096;
  const Decoded a = decode(in, in.size() + 1, limit);
  const Decoded b = decode(in, 7, limit);
  check(a.status == b.status && a.error == b.error);
  if (a.status == ChunkedDecoder::Status::Done) {
    check(a.consumed == b.consumed && a.body == b.body);
    check(a.consumed <= in.size());
  }
  if (a.status != ChunkedDecoder::Status::Error) check(a.body.size() <= limit);
  if (in.size() <= 1024) {
    const Decoded c = decode(in, 1, limit);
    check(a.status == c.status && a.error == c.error);
    if (a.status == ChunkedDecoder::Status::Done)
      check(a.consumed == c.consumed && a.body == c.body);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  fuzz_head(in, ParseLimits{}, false);
  static const auto forwarder_headers = std::make_shared<const std::vector<std::string>>(
      std::vector<std::string>{"SCRIPT_NAME", "X_A"});
  ParseLimits tolerant;
  tolerant.request_line = 64;
  tolerant.field_size = 48;
  tolerant.fields = 8;
  tolerant.body = 100;
  tolerant.permit_unconventional_method = true;
  tolerant.permit_obsolete_folding = true;
  tolerant.strip_header_spaces = true;
  tolerant.casefold_method = true;
  tolerant.header_map = HeaderMap::Dangerous;
  fuzz_head(in, tolerant, false);
  ParseLimits refusing;
  refusing.header_map = HeaderMap::Refuse;
  refusing.forwarder_headers = forwarder_headers;
  refusing.permit_obsolete_folding = true;
  fuzz_head(in, refusing, true);

  // The chunked decoder on what follows a valid head, or on the raw input.
  RequestParser p(ParseLimits{});
  Request r;
  if (p.parse(in, r) == ParseStatus::Complete && r.framing == BodyFraming::Chunked)
    fuzz_chunked(in.substr(r.head_length));
  else fuzz_chunked(in);
  return 0;
}
