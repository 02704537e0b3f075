#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gthreadd::http {

// gunicorn 22+ --header-map: what to do with a field name containing '_', which a WSGI
// environ cannot tell from its '-' twin (X_Forwarded_For vs X-Forwarded-For).
enum class HeaderMap {
  Drop,       // skip the field (still counted against limit_request_fields); the default
  Refuse,     // 400
  Dangerous,  // keep it; the environ maps '_' and '-' alike, joining twins with ','
};

// Resolved limits (0 in a gunicorn setting is already turned into its maximum here).
struct ParseLimits {
  std::size_t request_line = 8190;  // request line without its CRLF longer → 414
  std::size_t fields = 100;         // more header fields → 431
  // gunicorn counts a field line with its CRLF, plus each obs-fold continuation line with
  // its CRLF: a count over this → 431. So the default lets "name: value" be 8188 bytes.
  std::size_t field_size = 8190;
  std::uint64_t body = 1ull << 30;  // Content-Length or decoded chunked size over → 413 (0 = none)
  bool permit_unconventional_method = false;  // lower-case / unusual token methods
  bool casefold_method = false;               // upper-case the method (gunicorn 22+)
  bool permit_obsolete_folding = false;       // obs-fold joined with one SP instead of 400
  bool strip_header_spaces = false;           // tolerate "Name : value" (gunicorn's option)
  HeaderMap header_map = HeaderMap::Drop;
  // gunicorn 22+ forwarder_headers: '_' names a trusted forwarder may send, kept whatever
  // header_map says (compared case-insensitively; "*" means every name). Shared, so a
  // parser per connection costs no copy of the list.
  std::shared_ptr<const std::vector<std::string>> forwarder_headers;
};

}  // namespace gthreadd::http
