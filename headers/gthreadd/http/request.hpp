#pragma once
// A parsed request head. Every view points into storage the Request owns: the parser
// copies the head (and any values joined from obs-fold) there when the head is complete,
// so the views stay valid however the connection's read buffer moves or is compacted,
// and however long the app keeps the request: a view into the parser or the read buffer
// would dangle after the next read.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace gthreadd::http {

class RequestParser;

struct HeaderField {
  std::string_view name;   // as received (case preserved); has '_' only under header_map
                           // "dangerous" or a trusted forwarder's forwarder_headers
  std::string_view value;  // leading/trailing OWS removed; may hold obs-text (bytes >= 0x80)
};

enum class BodyFraming { None, ContentLength, Chunked };

struct Request {
  std::string_view method;  // as sent, or upper-cased under casefold_http_method
  std::string_view target;  // request-target exactly as sent (RAW_URI)
  std::string_view path;    // raw, still %-encoded path; for absolute-form the URI's path
                            // ("/" when it has none); "*" for OPTIONS *
  std::string_view query;   // after '?', without it; empty when none
  int version_minor = 1;    // HTTP/1.<minor>: 0 or 1
  std::vector<HeaderField> headers;
  BodyFraming framing = BodyFraming::None;
  std::uint64_t content_length = 0;  // valid when framing == ContentLength
  bool keep_alive = true;            // from version + Connection header (RFC 9112 §9.3)
  bool expect_continue = false;      // "Expect: 100-continue" on HTTP/1.1
  std::size_t head_length = 0;       // bytes of the parsed buffer the head (incl. final CRLF) used

  // A head copy larger than this is freed at clear() instead of kept for the next request.
  static constexpr std::size_t kKeepStorage = 64 * 1024;

  Request() = default;
  // A copy would point into the original's storage: not allowed. A move keeps the views
  // valid, since a moved std::vector keeps its heap block (unlike an SSO std::string).
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;
  Request(Request&&) noexcept = default;
  Request& operator=(Request&&) noexcept = default;
  ~Request() = default;

  void clear() noexcept {
    method = target = path = query = {};
    version_minor = 1;
    headers.clear();  // keeps capacity: no allocation per request on a kept-alive connection
    framing = BodyFraming::None;
    content_length = 0;
    keep_alive = true;
    expect_continue = false;
    head_length = 0;
    if (storage_.capacity() > kKeepStorage) {
      std::vector<char>().swap(storage_);
    } else {
      storage_.clear();  // keeps capacity, as headers does
    }
  }

 private:
  friend class RequestParser;
  std::vector<char> storage_;  // the head's bytes, then the joined obs-fold values
};

}  // namespace gthreadd::http
