#include "gthreadd/http/request_parser.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <limits>

#include "gthreadd/http/char_class.hpp"

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

constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Content-Length = 1*DIGIT (RFC 9110 §8.6); no sign, no spaces, no list, no overflow.
bool parse_content_length(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty()) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return false;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

// Calls fn(element) for each element of a #list (RFC 9110 §5.6.1), OWS trimmed.
template <typename Fn>
void for_each_list_element(std::string_view value, Fn&& fn) {
  while (true) {
    const auto comma = value.find(',');
    fn(trim_ows(value.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    value.remove_prefix(comma + 1);
  }
}

bool is_known_coding(std::string_view c) noexcept {
  // Registered codings we pass through undecoded ahead of chunked, as gunicorn 23 does.
  return iequals(c, "gzip") || iequals(c, "x-gzip") || iequals(c, "deflate") ||
         iequals(c, "compress") || iequals(c, "x-compress");
}

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

constexpr bool is_hex(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

constexpr bool is_unreserved(char c) noexcept {  // RFC 3986 §2.3
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

constexpr bool is_sub_delim(char c) noexcept {  // RFC 3986 §2.2
  return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
}

// reg-name = *( unreserved / pct-encoded / sub-delims ) (RFC 3986 §3.2.2), less ',': Host is a
// singleton, and a comma is what a repeated Host looks like once merged into a list
// (RFC 9110 §5.3), so "a, b" and "a,b" are refused alike.
bool is_reg_name(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return false;
      if (!is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
      i += 2;
    } else if (!is_unreserved(c) && (c == ',' || !is_sub_delim(c))) {
      return false;
    }
  }
  return true;
}

// IP-literal = "[" ( IPv6address / IPvFuture ) "]", given without its brackets.
bool is_ip_literal(std::string_view s) noexcept {
  if (!s.empty() && (s.front() == 'v' || s.front() == 'V')) {
    // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
    std::size_t i = 1;
    while (i < s.size() && is_hex(s[i])) ++i;
    if (i == 1 || i >= s.size() || s[i] != '.' || i + 1 == s.size()) return false;
    for (++i; i < s.size(); ++i)
      if (!is_unreserved(s[i]) && !is_sub_delim(s[i]) && s[i] != ':') return false;
    return true;
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (s.empty() || s.size() >= sizeof text) return false;
  std::memcpy(text, s.data(), s.size());
  in6_addr addr{};
  return ::inet_pton(AF_INET6, text, &addr) == 1;
}

// RFC 9112 §3.2: Host = uri-host [ ":" port ]; a server MUST answer 400 to an invalid one.
// An empty value is grammatical, but is what a client sends only for a target URI without
// an authority (§3.2); every target we serve is an http(s) URI, whose authority must not be
// empty (RFC 9110 §4.2.1: a recipient MUST reject such a URI as invalid; RFC 9112 §3.3 lets
// the server reject it), so an empty Host is a 400 too. No userinfo ("u@h"), no path.
bool is_valid_host(std::string_view v) noexcept {
  if (v.empty()) return false;
  std::string_view host = v, port;
  bool has_port = false;
  if (v.front() == '[') {
    const auto close = v.find(']');
    if (close == std::string_view::npos) return false;
    const std::string_view rest = v.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      has_port = true;
    }
    if (!is_ip_literal(v.substr(1, close - 1))) return false;
  } else {
    const auto colon = v.find(':');
    if (colon != std::string_view::npos) {
      host = v.substr(0, colon);
      port = v.substr(colon + 1);
      has_port = true;
    }
    if (host.empty() || !is_reg_name(host)) return false;  // IPv4address is a reg-name too
  }
  if (!has_port) return true;
  // port = *DIGIT (RFC 3986 §3.2.3: may be empty); a number over 65535 names no port.
  if (port.size() > 5) return false;
  unsigned n = 0;
  for (char c : port) {
    if (!is_digit(c)) return false;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  return n <= 65535;
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

// RFC 9112 §6.1 and §7: Transfer-Encoding is a list whose last coding must be chunked,
// chunked exactly once; unknown codings are 501, anything unparseable is 400.
bool RequestParser::apply_transfer_encoding(std::string_view value, bool& chunked, bool& unknown) {
  bool ok = true;
  for_each_list_element(value, [&](std::string_view coding) {
    if (!ok) return;
    if (!is_token(coding)) {  // also catches empty elements and non-ASCII padding
      ok = false;
      fail(400, "invalid Transfer-Encoding");
    } else if (iequals(coding, "chunked")) {
      if (chunked) ok = false, fail(400, "chunked applied twice");
      chunked = true;
    } else if (chunked) {
      ok = false;
      fail(400, "Transfer-Encoding does not end with chunked");
    } else if (!is_known_coding(coding)) {
      unknown = true;  // 501, unless a framing conflict makes it a 400 (decided in finish)
    }
  });
  return ok;
}

bool RequestParser::finish(std::string_view buffer, Request& out) {
  out.clear();
  // The Request gets its own copy of the head and of the folded values (one memcpy of a few
  // hundred bytes, into capacity kept across requests): nothing it holds can dangle when the
  // read buffer grows, moves or is compacted while the body arrives or the app runs.
  std::vector<char>& copy = out.storage_;
  copy.assign(buffer.data(), buffer.data() + scanned_);
  copy.insert(copy.end(), folded_.begin(), folded_.end());
  if (limits_
          .casefold_method)  // gunicorn 22+: after validation, so only unconventional ones change
    for (std::size_t i = request_start_; i < request_start_ + method_len_; ++i)
      if (copy[i] >= 'a' && copy[i] <= 'z') copy[i] = static_cast<char>(copy[i] - 'a' + 'A');
  const std::string_view head(copy.data(), scanned_);
  const std::string_view folded(copy.data() + scanned_, folded_.size());

  out.method = head.substr(request_start_, method_len_);
  out.target = head.substr(target_off_, target_len_);
  out.path = path_is_root_ ? std::string_view("/") : head.substr(path_off_, path_len_);
  out.query = head.substr(query_off_, query_len_);
  out.version_minor = version_minor_;

  std::size_t hosts = 0, content_types = 0;
  bool has_cl = false, has_te = false, chunked = false, unknown_coding = false;
  bool close = false, keep_alive = false;
  std::uint64_t content_length = 0;
  for (const FieldOffsets& f : fields_) {
    const std::string_view name = head.substr(f.name_off, f.name_len);
    const std::string_view value =
        f.folded ? folded.substr(f.value_off, f.value_len) : head.substr(f.value_off, f.value_len);
    out.headers.push_back({name, value});
    switch (name.size()) {  // cheap pre-filter before the case-insensitive compares
      case 4:
        if (iequals(name, "host")) {
          if (++hosts > 1) return fail(400, "repeated Host"), false;
          if (!is_valid_host(value)) return fail(400, "invalid Host"), false;
        }
        break;
      case 12:
        // RFC 9110 §8.3: a singleton; repeats cannot be merged, and implementations that
        // keep the last or the first disagree about the body (gunicorn 26.1 refuses them).
        if (iequals(name, "content-type") && ++content_types > 1)
          return fail(400, "repeated Content-Type"), false;
        break;
      case 6:
        if (iequals(name, "expect") && version_minor_ == 1 && iequals(value, "100-continue"))
          out.expect_continue = true;
        // Other expectations are ignored, as gunicorn does; RFC 9110 §10.1.1 allows a 417
        // but ignoring lets the app decide.
        break;
      case 10:
        if (iequals(name, "connection"))
          for_each_list_element(value, [&](std::string_view t) {
            close |= iequals(t, "close");
            keep_alive |= iequals(t, "keep-alive");
          });
        break;
      case 14:
        if (iequals(name, "content-length")) {
          // Even equal copies are refused (RFC 9110 §8.6 allows merging them; gunicorn
          // does not, and neither does any smuggling-safe front end we sit behind).
          if (has_cl) return fail(400, "repeated Content-Length"), false;
          if (!parse_content_length(value, content_length))
            return fail(400, "invalid Content-Length"), false;
          has_cl = true;
        }
        break;
      case 17:
        if (iequals(name, "transfer-encoding")) {
          // RFC 9112 §6.1: chunked on HTTP/1.0 is only ever seen in smuggling attempts.
          if (version_minor_ == 0) return fail(400, "Transfer-Encoding on HTTP/1.0"), false;
          has_te = true;
          if (!apply_transfer_encoding(value, chunked, unknown_coding)) return false;
        }
        break;
      default: break;
    }
  }
  // RFC 9112 §6.1: CL with TE is a smuggling attempt whatever the codings say; it wins over 501.
  if (has_te && has_cl) return fail(400, "both Content-Length and Transfer-Encoding"), false;
  if (unknown_coding) return fail(501, "unsupported transfer coding"), false;
  if (has_te && !chunked) return fail(400, "Transfer-Encoding does not end with chunked"), false;
  // RFC 9112 §3.2: exactly one Host on HTTP/1.1 (repeats are refused above, on any version).
  if (version_minor_ == 1 && hosts == 0) return fail(400, "missing Host"), false;
  if (chunked) {
    out.framing = BodyFraming::Chunked;
  } else if (has_cl) {
    if (limits_.body != 0 && content_length > limits_.body)
      return fail(413, "request body too large"), false;
    out.framing = BodyFraming::ContentLength;
    out.content_length = content_length;
  }
  // RFC 9112 §9.3: persistent by default on 1.1; 1.0 only when asked for.
  out.keep_alive = !close && (version_minor_ == 1 || keep_alive);
  return true;
}

}  // namespace gthreadd::http
