#include "gthreadd/wsgi/response_head.hpp"

#include <fmt/format.h>

#include "gthreadd/http/date_cache.hpp"

namespace gthreadd::wsgi {

std::string serialize_head(const ResponseHead& head, BodyFraming framing,
                           std::optional<std::uint64_t> derived_length, bool keep_alive,
                           int version_minor) {
  std::string out;
  out.reserve(160 + head.fields.size());
  // Always HTTP/1.1 in the status line: RFC 9110 §2.5 (a server sends its own version).
  out.append("HTTP/1.1 ").append(head.status).append("\r\n");
  if (!head.has_server) out.append("Server: gthreadd\r\n");
  if (!head.has_date) out.append("Date: ").append(http::http_date_now()).append("\r\n");
  if (!keep_alive) {
    out.append("Connection: close\r\n");
  } else if (version_minor == 0) {
    out.append("Connection: keep-alive\r\n");  // HTTP/1.0 persistence is opt-in (RFC 9112 §9.3)
  }
  if (head.content_length) {
    fmt::format_to(std::back_inserter(out), "Content-Length: {}\r\n", *head.content_length);
  } else if (derived_length) {
    fmt::format_to(std::back_inserter(out), "Content-Length: {}\r\n", *derived_length);
  } else if (framing == BodyFraming::Chunked) {
    out.append("Transfer-Encoding: chunked\r\n");
  }
  out.append(head.fields).append("\r\n");
  return out;
}

}  // namespace gthreadd::wsgi
