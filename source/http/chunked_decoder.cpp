#include "gthreadd/http/chunked_decoder.hpp"

#include <cstring>
#include <limits>

#include "gthreadd/http/char_class.hpp"

namespace gthreadd::http {

namespace {

constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// quoted-string (RFC 9110 §5.6.4) starting at s[i] == '"'; returns the index after it or npos.
std::size_t skip_quoted_string(std::string_view s, std::size_t i) noexcept {
  for (++i; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"') return i + 1;
    if (c == '\\') {
      if (++i == s.size()) return std::string_view::npos;
      const auto e = static_cast<unsigned char>(s[i]);
      if (!is_field_value_char(e)) return std::string_view::npos;
    } else if (!is_field_value_char(c)) {
      return std::string_view::npos;
    }
  }
  return std::string_view::npos;
}

std::size_t skip_ows(std::string_view s, std::size_t i) noexcept {
  while (i < s.size() && is_ows(s[i])) ++i;
  return i;
}

std::size_t skip_token(std::string_view s, std::size_t i) noexcept {
  while (i < s.size() && is_tchar(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) (RFC 9112 §7.1.1)
bool valid_chunk_ext(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    i = skip_ows(s, i);
    if (i == s.size() || s[i] != ';') return false;
    i = skip_ows(s, i + 1);
    const std::size_t name_end = skip_token(s, i);
    if (name_end == i) return false;
    i = skip_ows(s, name_end);
    if (i < s.size() && s[i] == '=') {
      i = skip_ows(s, i + 1);
      if (i < s.size() && s[i] == '"') {
        i = skip_quoted_string(s, i);
        if (i == std::string_view::npos) return false;
      } else {
        const std::size_t value_end = skip_token(s, i);
        if (value_end == i) return false;
        i = value_end;
      }
    }
  }
  return true;
}

// A trailer field is validated like a header field (RFC 9112 §7.1.2), then discarded.
bool valid_trailer_field(std::string_view line) noexcept {
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) return false;
  for (unsigned char c : line.substr(colon + 1))
    if (!is_field_value_char(c)) return false;
  return true;
}

}  // namespace

void ChunkedDecoder::reset() noexcept {
  state_ = State::Size;
  remaining_ = total_ = 0;
  trailer_bytes_ = 0;
  error_status_ = 400;
  error_reason_ = {};
  line_.clear();  // keeps capacity
}

ChunkedDecoder::Result ChunkedDecoder::fail(std::size_t consumed, int status,
                                            std::string_view reason) noexcept {
  state_ = State::Failed;
  error_status_ = status;
  error_reason_ = reason;
  return {Status::Error, consumed};
}

// One chunk-size line (without its CRLF): 1*HEXDIG [ chunk-ext ]. Nothing but plain hex:
// no "0x", sign, or whitespace before the size, which is where parsers disagree.
ChunkedDecoder::Result ChunkedDecoder::on_size_line(std::string_view line, std::size_t consumed) {
  std::uint64_t size = 0;
  std::size_t i = 0;
  for (; i < line.size(); ++i) {
    const int h = hex_value(line[i]);
    if (h < 0) break;
    if (size > (std::numeric_limits<std::uint64_t>::max() >> 4))
      return fail(consumed, 400, "chunk size overflows");
    size = (size << 4) | static_cast<std::uint64_t>(h);
  }
  if (i == 0) return fail(consumed, 400, "invalid chunk size");
  if (!valid_chunk_ext(line.substr(i))) return fail(consumed, 400, "invalid chunk extension");
  if (size == 0) {
    state_ = State::Trailer;
    return {Status::NeedMore, consumed};
  }
  if (body_limit_ != 0 && (size > body_limit_ || total_ > body_limit_ - size))
    return fail(consumed, 413, "request body too large");
  total_ += size;
  remaining_ = size;
  state_ = State::Data;
  return {Status::NeedMore, consumed};
}

ChunkedDecoder::Result ChunkedDecoder::on_trailer_line(std::string_view line,
                                                       std::size_t consumed) {
  if (line.empty()) {
    state_ = State::Finished;
    return {Status::Done, consumed};
  }
  if (!valid_trailer_field(line)) return fail(consumed, 400, "invalid trailer field");
  return {Status::NeedMore, consumed};
}

// A chunk-size or trailer line from input[pos..]: taken straight from the input when whole,
// else gathered in line_ across reads. NeedMore once the input is used up, or after a line
// that was accepted; pos is left after what was used.
ChunkedDecoder::Result ChunkedDecoder::take_line(std::string_view input, std::size_t& pos) {
  const bool trailer = state_ == State::Trailer;
  const void* nl = std::memchr(input.data() + pos, '\n', input.size() - pos);
  const std::size_t end =
      nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - input.data()) : input.size();
  const std::size_t piece = end - pos + (nl ? 1 : 0);
  // Bounds apply to the line still arriving, so a hostile client cannot make us buffer
  // more; +2 because the final CRLF is not part of the bound.
  if (trailer && trailer_bytes_ + line_.size() + piece > kMaxTrailerBytes + 2)
    return fail(pos, 431, "trailer section too large");
  if (!trailer && line_.size() + piece > kMaxChunkLine + 2)
    return fail(pos, 400, "chunk line too long");
  std::string_view line;
  if (line_.empty() && nl) {
    line = input.substr(pos, piece);
  } else {
    line_.append(input.substr(pos, piece));
    line = line_;
  }
  pos += piece;
  if (!nl) return {Status::NeedMore, pos};
  // RFC 9112 §7.1: lines end in CRLF; a bare CR or LF anywhere is an error.
  if (line.size() < 2 || line[line.size() - 2] != '\r')
    return fail(pos, 400, "bare LF in chunked body");
  line.remove_suffix(2);
  if (line.find('\r') != std::string_view::npos) return fail(pos, 400, "bare CR in chunked body");
  if (trailer) trailer_bytes_ += line.size() + 2;
  const Result r = trailer ? on_trailer_line(line, pos) : on_size_line(line, pos);
  line_.clear();
  return r;
}

ChunkedDecoder::Result ChunkedDecoder::feed(std::string_view input, RequestBody& out) {
  if (state_ == State::Failed) return {Status::Error, 0};
  if (state_ == State::Finished) return {Status::Done, 0};
  std::size_t pos = 0;
  while (pos < input.size()) {
    switch (state_) {
      case State::Data: {
        const std::size_t n = remaining_ < input.size() - pos ? static_cast<std::size_t>(remaining_)
                                                              : input.size() - pos;
        if (!out.append(input.substr(pos, n))) return fail(pos, 500, "cannot store request body");
        pos += n;
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::DataCr;
        break;
      }
      case State::DataCr:
        if (input[pos++] != '\r') return fail(pos, 400, "missing CRLF after chunk data");
        state_ = State::DataLf;
        break;
      case State::DataLf:
        if (input[pos++] != '\n') return fail(pos, 400, "missing CRLF after chunk data");
        state_ = State::Size;
        break;
      case State::Size:
      case State::Trailer: {
        const Result r = take_line(input, pos);
        if (r.status != Status::NeedMore) return r;
        break;
      }
      case State::Finished:
      case State::Failed: return {Status::Done, pos};
    }
  }
  return {Status::NeedMore, pos};
}

}  // namespace gthreadd::http
