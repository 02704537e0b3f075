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
  int status = 400;         // 400, 414, 431, 501, 505
  std::string_view reason;  // static text for the log, e.g. "bare LF in header"
};

class RequestParser {
 public:
  explicit RequestParser(const ParseLimits& limits) : limits_(limits) {}

  // Per connection, kept across reset(): the peer is a trusted forwarder (gunicorn's
  // forwarded_allow_ips), so '_' field names listed in forwarder_headers are kept whatever
  // header_map says. The event loop sets it once it knows the peer; false until then.
  void set_trusted_forwarder(bool trusted) noexcept { trusted_forwarder_ = trusted; }
  [[nodiscard]] bool trusted_forwarder() const noexcept { return trusted_forwarder_; }

  // `buffer` starts at the first byte of this request and may have grown since the last
  // call (the same prefix, possibly at a new address). On Complete, `out` is filled and
  // out.head_length tells where the body/next request starts, and `out` holds its own copy
  // of the head: it stays valid after `buffer` moves or is freed, and after reset().
  // On Error, error() says why.
  // Errors are reported as early as they can be known (e.g. an over-long request line is
  // 414 before its CRLF arrives).
  ParseStatus parse(std::string_view buffer, Request& out);

  // Forget progress: call before parsing the next request (a Request filled earlier stays
  // valid: it owns its bytes).
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
  // Once the blank line has arrived (request_framing.cpp): the Request's copy of the head,
  // the checks that need the whole head, the body's framing.
  struct HeadFacts;
  bool finish(std::string_view buffer, Request& out);
  void copy_head(std::string_view buffer, Request& out);
  bool note_field(std::string_view name, std::string_view value, HeadFacts& facts, Request& out);
  bool decide_framing(const HeadFacts& facts, Request& out);
  bool apply_transfer_encoding(std::string_view value, bool& chunked, bool& unknown);
  bool keep_underscore_field(std::string_view name);
  [[nodiscard]] std::size_t line_limit() const noexcept;

  ParseLimits limits_;
  ParseError error_;
  ParseStatus state_ = ParseStatus::Incomplete;  // sticky once Complete or Error
  std::size_t scanned_ = 0;                      // bytes of complete, validated lines
  std::size_t searched_ = 0;  // bytes already searched for LF (the partial line is not rescanned)
  std::size_t request_start_ = 0;  // after ignored leading empty lines
  std::size_t empty_lines_ = 0;
  std::size_t fields_seen_ = 0;  // including dropped ones: the limit counts what was sent
  bool request_line_done_ = false;
  bool last_field_dropped_ = false;
  bool trusted_forwarder_ = false;  // per connection: not touched by reset()
  std::size_t field_bytes_ = 0;     // the current field's lines with their CRLFs (gunicorn's count)
  std::vector<FieldOffsets> fields_;  // rebuilt into views into Request's copy at Complete
  std::string folded_;                // joined obs-fold values (only with permit_obsolete_folding)
  std::size_t method_len_ = 0, target_off_ = 0, target_len_ = 0;
  std::size_t path_off_ = 0, path_len_ = 0, query_off_ = 0, query_len_ = 0;
  bool path_is_root_ = false;  // absolute-form without a path: "/" (RFC 9112 §3.2.2)
  int version_minor_ = 1;
};

}  // namespace gthreadd::http
