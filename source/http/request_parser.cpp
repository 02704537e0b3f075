#include "gthreadd/http/request_parser.hpp"

#include <array>
#include <cstdint>
#include <cstring>

#include "gthreadd/http/char_class.hpp"
#include "gthreadd/http/field_syntax.hpp"

namespace gthreadd::http {

namespace {

// RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
// A few cover clients that send an extra CRLF after a body; more is an attack or garbage.
constexpr std::size_t kMaxLeadingEmptyLines = 4;

// RFC 3986 §2: unreserved / reserved / "%". Anything else in a request-target (controls,
// SP, DEL, obs-text, and `"<>\^`{|}`) is rejected rather than guessed at.
constexpr std::array<bool, 256> make_target_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (unsigned char c : std::string_view("-._~:/?#[]@!$&'()*+,;=%")) t[c] = true;
  return t;
}
constexpr auto kTargetChar = make_target_table();

// Header values are most of a request head: check them 8 bytes at a time. A word with no
// byte below 0x20 and no DEL is all field-vchar/SP (bytes >= 0x80 are obs-text, allowed);
// any other word, e.g. one holding a legitimate HTAB, gets the exact per-byte check.
bool all_field_value_chars(std::string_view s) noexcept {
  constexpr std::uint64_t k01 = 0x0101010101010101ull;
  constexpr std::uint64_t k80 = 0x80 * k01;
  const char* p = s.data();
  std::size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t x;
    std::memcpy(&x, p, 8);
    const std::uint64_t below_space = (x - 0x20 * k01) & ~x & k80;
    const std::uint64_t del = ((x ^ 0x7f * k01) - k01) & ~(x ^ 0x7f * k01) & k80;
    if ((below_space | del) == 0) continue;
    for (int i = 0; i < 8; ++i)
      if (!is_field_value_char(static_cast<unsigned char>(p[i]))) return false;
  }
  for (; n != 0; ++p, --n)
    if (!is_field_value_char(static_cast<unsigned char>(*p))) return false;
  return true;
}

}  // namespace

void RequestParser::reset() noexcept {
  error_ = {};
  state_ = ParseStatus::Incomplete;
  scanned_ = searched_ = request_start_ = empty_lines_ = fields_seen_ = 0;
  request_line_done_ = last_field_dropped_ = false;
  field_bytes_ = 0;
  fields_.clear();  // keeps capacity
  folded_.clear();
  method_len_ = target_off_ = target_len_ = 0;
  path_off_ = path_len_ = query_off_ = query_len_ = 0;
  path_is_root_ = false;
  version_minor_ = 1;
}

ParseStatus RequestParser::fail(int status, std::string_view reason) noexcept {
  error_.status = status;
  error_.reason = reason;
  state_ = ParseStatus::Error;
  return state_;
}

ParseStatus RequestParser::parse(std::string_view buffer, Request& out) {
  if (state_ != ParseStatus::Incomplete) return state_;
  const char* data = buffer.data();
  while (true) {
    const std::size_t from = searched_ > scanned_ ? searched_ : scanned_;
    const void* nl =
        from < buffer.size() ? std::memchr(data + from, '\n', buffer.size() - from) : nullptr;
    if (nl == nullptr) {
      searched_ = buffer.size();
      return check_partial_line(buffer, scanned_);
    }
    const auto lf = static_cast<std::size_t>(static_cast<const char*>(nl) - data);
    const std::size_t line_start = scanned_;
    searched_ = scanned_ = lf + 1;
    const bool has_cr = lf > line_start && data[lf - 1] == '\r';
    const std::string_view line(data + line_start, lf - line_start - (has_cr ? 1 : 0));
    // Limits first, so the verdict is the same whether the line arrived whole or in pieces
    // (check_partial_line applies the same rule to a line still arriving).
    if (line.size() > line_limit())
      return request_line_done_ ? fail(431, "header field too long")
                                : fail(414, "request line too long");
    // RFC 9112 §2.2: we accept only CRLF; a bare LF is how smuggling parsers disagree.
    if (!has_cr) return fail(400, "bare LF in request head");

    if (!request_line_done_) {
      if (line.empty()) {
        if (++empty_lines_ > kMaxLeadingEmptyLines)
          return fail(400, "too many empty lines before request");
        request_start_ = scanned_;
        continue;
      }
      if (!parse_request_line(line, line_start)) return state_;
      request_line_done_ = true;
      continue;
    }
    if (line.empty()) {
      if (!finish(buffer, out)) return state_;
      out.head_length = scanned_;
      state_ = ParseStatus::Complete;
      return state_;
    }
    if (!parse_field_line(buffer, line, line_start)) return state_;
  }
}

// The longest line allowed, CRLF not counted. gunicorn compares the request line without
// its CRLF with limit_request_line (message.py read_line: `idx > limit`), and a field line
// with its CRLF with limit_request_field_size (parse_headers: `len(curr) + 2`): a field line
// of field_size - 1 bytes is already too long there, so it is here.
std::size_t RequestParser::line_limit() const noexcept {
  if (!request_line_done_) return limits_.request_line;
  return limits_.field_size >= 2 ? limits_.field_size - 2 : 0;
}

// Limits are enforced on the line still being received, so a client cannot make us buffer
// more than the limit before we answer (the CR of the CRLF may still be pending).
ParseStatus RequestParser::check_partial_line(std::string_view buffer, std::size_t line_start) {
  const std::size_t pending = buffer.size() - line_start;
  const std::size_t limit = line_limit();
  const bool over = pending > limit && (pending - limit > 1 || buffer.back() != '\r');
  if (!over) return ParseStatus::Incomplete;
  return request_line_done_ ? fail(431, "header field too long")
                            : fail(414, "request line too long");
}

// request-line = method SP request-target SP HTTP-version (RFC 9112 §3), single SPs only.
bool RequestParser::parse_request_line(std::string_view line, std::size_t off) {
  const auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return fail(400, "malformed request line"), false;
  const std::string_view method = line.substr(0, sp1);
  if (!is_token(method)) return fail(400, "invalid method"), false;
  if (!limits_.permit_unconventional_method) {
    // gunicorn's default: 3-20 characters, no lower case and no '#' (all IANA methods fit).
    if (method.size() < 3 || method.size() > 20) return fail(400, "unconventional method"), false;
    for (char c : method)
      if ((c >= 'a' && c <= 'z') || c == '#') return fail(400, "unconventional method"), false;
  }
  const auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return fail(400, "malformed request line"), false;
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  method_len_ = method.size();
  target_off_ = off + sp1 + 1;
  target_len_ = target.size();
  if (target.empty()) return fail(400, "malformed request line"), false;
  for (unsigned char c : target)
    if (!kTargetChar[c]) return fail(400, "invalid character in request target"), false;

  // HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3); well-formed but not 1.x → 505.
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !is_digit(version[5]) ||
      version[6] != '.' || !is_digit(version[7]))
    return fail(400, "malformed HTTP version"), false;
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
    return fail(505, "unsupported HTTP version"), false;
  version_minor_ = version[7] - '0';
  if (!parse_target(method, target, target_off_)) return false;
  // RFC 9110 §9.3.6: CONNECT asks for a tunnel, which a WSGI server cannot give (an app has no
  // socket to relay). 501 rather than 405: RFC 9110 §15.6.2 makes 501 the answer for a method
  // the server supports for no resource at all, while a 405 (§15.5.6) says the target
  // resource supports other methods and MUST list them in Allow, which only the app knows.
  // The app never sees the request; the connection is closed after the answer.
  if (method == "CONNECT") return fail(501, "CONNECT is not supported"), false;
  return true;
}

// RFC 9112 §3.2: origin-form for everything; absolute-form too (proxies may send it);
// authority-form only for CONNECT, asterisk-form only for OPTIONS.
bool RequestParser::parse_target(std::string_view method, std::string_view target,
                                 std::size_t off) {
  const bool connect = method == "CONNECT";
  std::size_t path_start = 0;
  if (target == "*") {
    if (method != "OPTIONS") return fail(400, "asterisk-form target outside OPTIONS"), false;
    path_off_ = off;
    path_len_ = 1;
    return true;
  }
  if (connect) {
    // authority-form = uri-host ":" port
    const auto colon = target.rfind(':');
    if (colon == 0 || colon == std::string_view::npos || colon + 1 == target.size())
      return fail(400, "invalid CONNECT target"), false;
    for (char c : target.substr(colon + 1))
      if (!is_digit(c)) return fail(400, "invalid CONNECT target"), false;
    for (char c : target.substr(0, colon))
      if (c == '/' || c == '?' || c == '#' || c == '@')
        return fail(400, "invalid CONNECT target"), false;
    return true;  // no path or query
  }
  if (target.front() != '/') {
    // absolute-form: only the http(s) schemes make sense for a WSGI server.
    const auto sep = target.find("://");
    if (sep == std::string_view::npos) return fail(400, "invalid request target"), false;
    const std::string_view scheme = target.substr(0, sep);
    if (!iequals(scheme, "http") && !iequals(scheme, "https"))
      return fail(400, "invalid request target"), false;
    std::size_t i = sep + 3;
    const std::size_t authority_start = i;
    while (i < target.size() && target[i] != '/' && target[i] != '?' && target[i] != '#') ++i;
    if (i == authority_start) return fail(400, "absolute-form target without authority"), false;
    path_start = i;
  }
  std::size_t i = path_start;
  while (i < target.size() && target[i] != '?' && target[i] != '#') ++i;
  path_off_ = off + path_start;
  path_len_ = i - path_start;
  path_is_root_ = path_len_ == 0;  // "http://h?q" means "/?q" (RFC 9112 §3.2.2)
  if (i < target.size() && target[i] == '?') {
    const std::size_t q = i + 1;
    std::size_t e = q;
    while (e < target.size() && target[e] != '#') ++e;  // a fragment is not part of the query
    query_off_ = off + q;
    query_len_ = e - q;
  }
  return true;
}

// field-line = field-name ":" OWS field-value OWS (RFC 9112 §5).
bool RequestParser::parse_field_line(std::string_view buffer, std::string_view line,
                                     std::size_t off) {
  if (is_ows(line.front())) {
    // RFC 9112 §2.2: whitespace before the first field would hide it; reject. Later it is
    // obs-fold (§5.2), which we reject unless the operator allowed it.
    if (fields_seen_ == 0) return fail(400, "whitespace before first header field"), false;
    if (!limits_.permit_obsolete_folding) return fail(400, "obsolete line folding"), false;
    return fold_line(buffer, line);
  }
  if (++fields_seen_ > limits_.fields) return fail(431, "too many header fields"), false;
  // One pass over the name: it ends at the first non-tchar, which must be the colon.
  std::size_t i = 0;
  bool underscore = false;
  while (i < line.size() && is_tchar(static_cast<unsigned char>(line[i])))
    underscore |= line[i++] == '_';
  const std::size_t name_len = i;
  if (limits_.strip_header_spaces)
    while (i < line.size() && is_ows(line[i])) ++i;
  if (i == line.size() || line[i] != ':') {
    if (line.find(':') == std::string_view::npos)
      return fail(400, "header field without colon"), false;
    return fail(400, is_ows(line[i]) ? "whitespace before colon" : "invalid header field name"),
           false;
  }
  if (name_len == 0) return fail(400, "empty header field name"), false;
  const std::string_view name = line.substr(0, name_len);
  const std::string_view raw_value = line.substr(i + 1);
  if (!all_field_value_chars(raw_value))
    return fail(400, "invalid character in header field value"), false;
  field_bytes_ = line.size() + 2;  // with its CRLF, as gunicorn counts (see line_limit)
  // A name with '_' would become the same WSGI key as its '-' twin (X_Forwarded_For vs
  // X-Forwarded-For): header_map says what to do, as in gunicorn 22+.
  last_field_dropped_ = false;
  if (underscore && !keep_underscore_field(name)) {
    if (state_ == ParseStatus::Error) return false;
    last_field_dropped_ = true;
    return true;
  }
  const std::string_view value = trim_ows(raw_value);
  const std::size_t value_off =
      value.empty() ? off + line.size() : static_cast<std::size_t>(value.data() - buffer.data());
  fields_.push_back({off, name.size(), value_off, value.size(), false});
  return true;
}

// Only with permit_obsolete_folding: RFC 9112 §5.2 lets a server replace each obs-fold with SP.
// The buffer is read-only, so the joined value lives in folded_.
bool RequestParser::fold_line(std::string_view buffer, std::string_view line) {
  if (!all_field_value_chars(line))
    return fail(400, "invalid character in header field value"), false;
  // gunicorn adds each continuation line with its CRLF to the field's count, dropped or not.
  field_bytes_ += line.size() + 2;
  if (field_bytes_ > limits_.field_size) return fail(431, "header field too long"), false;
  if (last_field_dropped_) return true;
  FieldOffsets& f = fields_.back();
  if (!f.folded) {
    const std::size_t start = folded_.size();
    folded_.append(buffer.substr(f.value_off, f.value_len));
    f.value_off = start;
    f.folded = true;
  }
  const std::string_view more = trim_ows(line);
  if (!more.empty()) {
    if (f.value_len != 0) {
      folded_.push_back(' ');
      ++f.value_len;
    }
    folded_.append(more);
    f.value_len += more.size();
  }
  return true;
}

// gunicorn 22+ parse_headers: a trusted forwarder's forwarder_headers first, then header_map.
// Returns false to drop the field, or after fail() for "refuse".
bool RequestParser::keep_underscore_field(std::string_view name) {
  if (trusted_forwarder_ && limits_.forwarder_headers) {
    for (const std::string& allowed : *limits_.forwarder_headers)
      if (allowed == "*" || iequals(allowed, name)) return true;
  }
  switch (limits_.header_map) {
    case HeaderMap::Dangerous: return true;
    case HeaderMap::Refuse: fail(400, "'_' in header field name"); return false;
    case HeaderMap::Drop: break;
  }
  return false;
}

}  // namespace gthreadd::http
