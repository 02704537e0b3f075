#include "gthreadd/wsgi/response_head.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "gthreadd/http/date_cache.hpp"

namespace gthreadd::wsgi {
namespace {

constexpr std::string_view kStatusPrefix = "HTTP/1.1 ";
constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kServer = "Server: gthreadd\r\n";
constexpr std::string_view kDatePrefix = "Date: ";
constexpr std::size_t kDateLen = 29;  // IMF-fixdate, RFC 9110 §5.6.7
constexpr std::string_view kClose = "Connection: close\r\n";
constexpr std::string_view kKeepAlive = "Connection: keep-alive\r\n";
constexpr std::string_view kContentLength = "Content-Length: ";
constexpr std::size_t kMaxDigits = 20;  // UINT64_MAX
constexpr std::string_view kChunked = "Transfer-Encoding: chunked\r\n";

// The most the server's own fields can take, whichever of them a response gets.
constexpr std::size_t kMaxServerFields =
    kServer.size() + kDatePrefix.size() + kDateLen + kCrlf.size() +
    std::max(kClose.size(), kKeepAlive.size()) +
    std::max(kContentLength.size() + kMaxDigits + kCrlf.size(), kChunked.size());

// Constant sizes here let the compiler turn the copies into a few moves.
char* put(char* p, std::string_view s) noexcept {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

}  // namespace

// Written through a pointer into a buffer sized for the worst case, then cut to length:
// one allocation and no per-append capacity checks or format-string parsing.
std::string serialize_head(const ResponseHead& head, BodyFraming framing,
                           std::optional<std::uint64_t> derived_length, bool keep_alive,
                           int version_minor) {
  std::string out(kStatusPrefix.size() + head.status.size() + kCrlf.size() + kMaxServerFields +
                      head.fields.size() + kCrlf.size(),
                  '\0');
  char* p = out.data();
  // Always HTTP/1.1 in the status line: RFC 9110 §2.5 (a server sends its own version).
  p = put(p, kStatusPrefix);
  p = put(p, head.status);
  p = put(p, kCrlf);
  if (!head.has_server) p = put(p, kServer);
  if (!head.has_date) {
    p = put(p, kDatePrefix);
    const std::string_view date = http::http_date_now();
    std::memcpy(p, date.data(), kDateLen);  // always 29 bytes (date_cache.hpp)
    p = put(p + kDateLen, kCrlf);
  }
  if (!keep_alive) {
    p = put(p, kClose);
  } else if (version_minor == 0) {
    p = put(p, kKeepAlive);  // HTTP/1.0 persistence is opt-in (RFC 9112 §9.3)
  }
  const auto length = head.content_length ? head.content_length : derived_length;
  if (length) {
    p = put(p, kContentLength);
    p = std::to_chars(p, p + kMaxDigits, *length).ptr;
    p = put(p, kCrlf);
  } else if (framing == BodyFraming::Chunked) {
    p = put(p, kChunked);
  }
  p = put(p, head.fields);
  p = put(p, kCrlf);
  out.resize(static_cast<std::size_t>(p - out.data()));
  return out;
}

}  // namespace gthreadd::wsgi
