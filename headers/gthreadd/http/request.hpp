#pragma once
// A parsed request head. All views point into the connection's read buffer and stay valid
// until that buffer is compacted, i.e. until the request has been answered. (Exception:
// values joined from obs-fold, allowed only by permit_obsolete_folding, live in the
// RequestParser until its reset().)
#include <cstdint>
#include <string_view>
#include <vector>

namespace gthreadd::http {

struct HeaderField {
  std::string_view name;   // as received (case preserved); never contains '_' (those are dropped)
  std::string_view value;  // leading/trailing OWS removed; may hold obs-text (bytes >= 0x80)
};

enum class BodyFraming { None, ContentLength, Chunked };

struct Request {
  std::string_view method;
  std::string_view target;      // request-target exactly as sent (RAW_URI)
  std::string_view path;        // raw, still %-encoded path; for absolute-form the URI's path
                                // ("/" when it has none); "*" for OPTIONS *; empty for CONNECT
  std::string_view query;       // after '?', without it; empty when none
  int version_minor = 1;        // HTTP/1.<minor>: 0 or 1
  std::vector<HeaderField> headers;
  BodyFraming framing = BodyFraming::None;
  std::uint64_t content_length = 0;  // valid when framing == ContentLength
  bool keep_alive = true;            // from version + Connection header (RFC 9112 §9.3)
  bool expect_continue = false;      // "Expect: 100-continue" on HTTP/1.1
  std::size_t head_length = 0;       // bytes of the buffer the head (incl. final CRLF) used

  void clear() noexcept {
    method = target = path = query = {};
    version_minor = 1;
    headers.clear();  // keeps capacity: no allocation per request on a kept-alive connection
    framing = BodyFraming::None;
    content_length = 0;
    keep_alive = true;
    expect_continue = false;
    head_length = 0;
  }
};

}  // namespace gthreadd::http
