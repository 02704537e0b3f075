#pragma once
// Incremental decoder for Transfer-Encoding: chunked request bodies (RFC 9112 §7.1).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gthreadd/http/request_body.hpp"

namespace gthreadd::http {

class ChunkedDecoder {
 public:
  enum class Status { NeedMore, Done, Error };
  struct Result {
    Status status = Status::NeedMore;
    std::size_t consumed = 0;  // bytes of `input` used (on Done: up to and incl. the final CRLF)
  };

  // `body_limit`: 0 = none; exceeding it is an Error with status 413.
  explicit ChunkedDecoder(std::uint64_t body_limit = 0) : body_limit_(body_limit) {}

  // Decodes as much of `input` as possible, appending data to `out`. Bytes after the
  // terminating chunk and trailer section are not consumed (they are the next request).
  Result feed(std::string_view input, RequestBody& out);

  void reset() noexcept;
  [[nodiscard]] int error_status() const noexcept { return error_status_; }
  [[nodiscard]] std::string_view error_reason() const noexcept { return error_reason_; }

  // Bounds that keep a hostile client from making us buffer without end.
  static constexpr std::size_t kMaxChunkLine = 4096;     // size + extensions
  static constexpr std::size_t kMaxTrailerBytes = 8192;  // whole trailer section

 private:
  enum class State { Size, Data, DataCr, DataLf, Trailer, Finished, Failed };
  Result fail(std::size_t consumed, int status, std::string_view reason) noexcept;
  Result on_size_line(std::string_view line, std::size_t consumed);
  Result on_trailer_line(std::string_view line, std::size_t consumed);
  Result take_line(std::string_view input, std::size_t& pos);

  State state_ = State::Size;
  std::uint64_t body_limit_;
  std::uint64_t remaining_ = 0;  // bytes left in the current chunk
  std::uint64_t total_ = 0;      // decoded bytes so far, against body_limit_
  std::size_t trailer_bytes_ = 0;
  int error_status_ = 400;
  std::string_view error_reason_;
  std::string line_;  // a chunk-size or trailer line split across reads
};

}  // namespace gthreadd::http
