#pragma once
// Strict RFC 9112 request-head parser. Resumable at line granularity: feeding the same,
// growing buffer again re-validates only the lines that were not complete before, so a
// client dribbling one byte at a time costs O(n), not O(n^2).
#include <cstddef>
#include <string_view>

#include "gthreadd/http/parse_limits.hpp"
#include "gthreadd/http/request.hpp"

namespace gthreadd::http {

enum class ParseStatus { Incomplete, Complete, Error };

struct ParseError {
  int status = 400;               // 400, 414, 431, 501, 505
  std::string_view reason;        // static text for the log, e.g. "bare LF in header"
};

class RequestParser {
 public:
  explicit RequestParser(const ParseLimits& limits) : limits_(limits) {}

  // `buffer` starts at the first byte of this request and may have grown since the last
  // call (the same prefix, possibly at a new address). On Complete, `out` is filled and
  // out.head_length tells where the body/next request starts. On Error, error() says why.
  // Errors are reported as early as they can be known (e.g. an over-long request line is
  // 414 before its CRLF arrives).
  ParseStatus parse(std::string_view buffer, Request& out);

  // Forget progress: call before parsing the next request.
  void reset() noexcept;

  [[nodiscard]] const ParseError& error() const noexcept { return error_; }

 private:
  // Implementation-defined resumption state (offsets, not pointers, since the buffer moves).
  ParseLimits limits_;
  ParseError error_;
  std::size_t scanned_ = 0;        // bytes of complete, validated lines
  std::size_t fields_seen_ = 0;
  bool request_line_done_ = false;
  struct FieldOffsets { std::size_t name_off, name_len, value_off, value_len; };
  std::vector<FieldOffsets> fields_;  // rebuilt into views at Complete
  std::size_t method_len_ = 0, target_off_ = 0, target_len_ = 0;
  int version_minor_ = 1;
};

}  // namespace gthreadd::http
