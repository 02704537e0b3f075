#include "gthreadd/worker/parse_limits.hpp"

#include <memory>

namespace gthreadd::worker {

core::AddressMatcher matcher_from(const std::vector<std::string>& entries) {
  std::string error;
  return core::AddressMatcher::parse(entries, error).value_or(core::AddressMatcher{});
}

http::ParseLimits limits_from(const config::Settings& s) {
  http::ParseLimits l;
  // gunicorn (message.py): the request line counts without its CRLF; 0 or anything from
  // 8190 up means 8190 here. (gunicorn's 0 leaves the line unbounded; we keep its maximum so
  // one line cannot grow without end. config/ clamps larger values with a warning.)
  l.request_line = s.limit_request_line > 0 && s.limit_request_line < 8190
                       ? static_cast<std::size_t>(s.limit_request_line)
                       : 8190;
  // 0 or over 32768 fields means 32768, as gunicorn.
  l.fields = s.limit_request_fields > 0 && s.limit_request_fields <= 32768
                 ? static_cast<std::size_t>(s.limit_request_fields)
                 : 32768;
  // A field line counts with its CRLF (and folded lines with theirs); gunicorn 23+ has no
  // maximum, and 0 turns the check off there, the head staying bounded by fields x 8192.
  // Here 0 means 64 KiB a field: bounded, and more than any real header needs.
  l.field_size =
      s.limit_request_field_size > 0 ? static_cast<std::size_t>(s.limit_request_field_size) : 65536;
  l.body = s.limit_request_body;
  l.permit_unconventional_method = s.permit_unconventional_http_method;
  l.casefold_method = s.casefold_http_method;
  l.permit_obsolete_folding = s.permit_obsolete_folding;
  l.strip_header_spaces = s.strip_header_spaces;
  // config/ accepts only these three words; anything else falls back to the strictest.
  l.header_map = s.header_map == "drop"        ? http::HeaderMap::Drop
                 : s.header_map == "dangerous" ? http::HeaderMap::Dangerous
                                               : http::HeaderMap::Refuse;
  l.forwarder_headers = std::make_shared<const std::vector<std::string>>(s.forwarder_headers);
  return l;
}

}  // namespace gthreadd::worker
