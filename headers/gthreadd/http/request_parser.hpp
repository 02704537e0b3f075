#pragma once
// Strict RFC 9112 request-head parser. Resumable at line granularity: feeding the same,
// growing buffer again re-validates only the lines that were not complete before, so a
// client dribbling one byte at a time costs O(n), not O(n^2).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

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

  // Forget progress: call before parsing the next request. Header values joined from
  // obs-fold (only with permit_obsolete_folding) live in the parser, so `out` must not be
  // used after reset() or after the parser is gone.
  void reset() noexcept;

  [[nodiscard]] const ParseError& error() const noexcept { return error_; }

 private:
  // Resumption state is kept as offsets, not pointers, since the buffer may move.
  struct FieldOffsets {
    std::size_t name_off, name_len;
    std::size_t value_off, value_len;  // into the buffer, or into folded_ when `folded`
    bool folded;
  };

  ParseStatus fail(int status, std::string_view reason) noexcept;
  ParseStatus check_partial_line(std::string_view buffer, std::size_t line_start);
  bool parse_request_line(std::string_view line, std::size_t off);
  bool parse_target(std::string_view method, std::string_view target, std::size_t off);
  bool parse_field_line(std::string_view buffer, std::string_view line, std::size_t off);
  bool fold_line(std::string_view buffer, std::string_view line);
  bool finish(std::string_view buffer, Request& out);
  bool apply_transfer_encoding(std::string_view value, bool& chunked, bool& unknown);

  ParseLimits limits_;
  ParseError error_;
  ParseStatus state_ = ParseStatus::Incomplete;  // sticky once Complete or Error
  std::size_t scanned_ = 0;        // bytes of complete, validated lines
  std::size_t searched_ = 0;       // bytes already searched for LF (the partial line is not rescanned)
  std::size_t request_start_ = 0;  // after ignored leading empty lines
  std::size_t empty_lines_ = 0;
  std::size_t fields_seen_ = 0;    // including dropped ones: the limit counts what was sent
  bool request_line_done_ = false;
  bool last_field_dropped_ = false;
  std::vector<FieldOffsets> fields_;  // rebuilt into views at Complete
  std::string folded_;                // joined obs-fold values (only with permit_obsolete_folding)
  std::size_t method_len_ = 0, target_off_ = 0, target_len_ = 0;
  std::size_t path_off_ = 0, path_len_ = 0, query_off_ = 0, query_len_ = 0;
  bool path_is_root_ = false;      // absolute-form without a path: "/" (RFC 9112 §3.2.2)
  int version_minor_ = 1;
};

}  // namespace gthreadd::http
