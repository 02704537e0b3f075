#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "gthreadd/http/char_class.hpp"
#include "gthreadd/wsgi/response_head.hpp"

namespace gthreadd::wsgi {
namespace {

// A str whose code points all fit in latin-1, as its bytes (PEP 3333 "native strings").
bool latin1_view(PyObject* text, std::string_view& out) {
  if (!PyUnicode_Check(text) || PyUnicode_READY(text) != 0) return false;
  if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND) return false;
  out = std::string_view(static_cast<const char*>(PyUnicode_DATA(text)),
                         static_cast<std::size_t>(PyUnicode_GET_LENGTH(text)));
  return true;
}

// Branch-free over the bytes (one test at the end, unrolled): the usual name or value is
// all valid, so an early exit would only cost a branch per byte.
bool all_tchars(std::string_view s) noexcept {
  bool ok = !s.empty();
#pragma GCC unroll 8
  for (unsigned char c : s) ok &= http::is_tchar(c);
  return ok;
}

bool all_field_value_chars(std::string_view s) noexcept {
  bool ok = true;
#pragma GCC unroll 8
  for (unsigned char c : s) ok &= http::is_field_value_char(c);
  return ok;
}

std::string_view trim_ows(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

std::uint64_t load8(const char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint32_t load4(const char* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// `token` (already checked to be a token) equals `lower`, which holds only 'a'-'z' and '-'.
// Folding one side is enough: OR 0x20 maps a byte onto a lower-case letter only from that
// letter or its upper case, and onto '-' only from '-' or CR, which no token contains. So
// whole words can be folded and compared (the last word overlapping the one before).
bool token_is(std::string_view token, std::string_view lower) noexcept {
  const std::size_t n = lower.size();
  if (token.size() != n) return false;
  const char* t = token.data();
  const char* l = lower.data();
  if (n >= 8) {
    constexpr std::uint64_t kFold = 0x2020202020202020;
    for (std::size_t i = 0; i + 8 < n; i += 8)
      if ((load8(t + i) | kFold) != load8(l + i)) return false;
    return (load8(t + n - 8) | kFold) == load8(l + n - 8);
  }
  if (n >= 4) {
    constexpr std::uint32_t kFold = 0x20202020;
    return (load4(t) | kFold) == load4(l) && (load4(t + n - 4) | kFold) == load4(l + n - 4);
  }
  for (std::size_t i = 0; i < n; ++i)
    if ((static_cast<unsigned char>(t[i]) | 0x20) != static_cast<unsigned char>(l[i])) return false;
  return true;
}

enum class Known { Other, ContentLength, Connection, HopByHop, Server, Date };

// The names the server treats specially, told apart by length first so that the usual
// name (Content-Type, X-...) costs one switch. Hop-by-hop: gunicorn's util.is_hoppish list
// plus "Trailer" (RFC 9110 §6.6.2) and Proxy-Connection.
Known classify(std::string_view name) noexcept {
  switch (name.size()) {
    case 2: return token_is(name, "te") ? Known::HopByHop : Known::Other;
    case 4: return token_is(name, "date") ? Known::Date : Known::Other;
    case 6: return token_is(name, "server") ? Known::Server : Known::Other;
    case 7:
      return token_is(name, "upgrade") || token_is(name, "trailer") ? Known::HopByHop
                                                                    : Known::Other;
    case 8: return token_is(name, "trailers") ? Known::HopByHop : Known::Other;
    case 10:
      if (token_is(name, "connection")) return Known::Connection;
      return token_is(name, "keep-alive") ? Known::HopByHop : Known::Other;
    case 14: return token_is(name, "content-length") ? Known::ContentLength : Known::Other;
    case 16: return token_is(name, "proxy-connection") ? Known::HopByHop : Known::Other;
    case 17: return token_is(name, "transfer-encoding") ? Known::HopByHop : Known::Other;
    case 18: return token_is(name, "proxy-authenticate") ? Known::HopByHop : Known::Other;
    case 19: return token_is(name, "proxy-authorization") ? Known::HopByHop : Known::Other;
    default: return Known::Other;
  }
}

bool has_close_token(std::string_view value) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    if (http::iequals(trim_ows(value.substr(0, comma)), "close")) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// The checks below say what was wrong in `why` and return false; success costs no string.
bool fail(std::string& why, std::string reason) {
  why = std::move(reason);
  return false;
}

bool check_status(PyObject* status, ResponseHead& out, std::string& why) {
  std::string_view s;
  if (!latin1_view(status, s)) return fail(why, "status must be a latin-1 str");
  // "NNN reason": RFC 9112 §4 status-line, three digits then SP (the reason may be empty).
  if (s.size() < 4 || s[3] != ' ') return fail(why, "status must be 'NNN reason'");
  for (int i = 0; i < 3; ++i)
    if (s[i] < '0' || s[i] > '9') return fail(why, "status code must be three digits");
  if (s[0] == '0') return fail(why, "status code must be 100-999");
  if (!all_field_value_chars(s.substr(4)))
    return fail(why, "status reason contains a control character");
  out.status.assign(s);
  out.code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
  return true;
}

// "name: value\r\n" in one growth of `fields` instead of four appends.
void append_field(std::string& fields, std::string_view name, std::string_view value) {
  const std::size_t at = fields.size();
  fields.resize(at + name.size() + value.size() + 4);
  char* p = fields.data() + at;
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  *p++ = ':';
  *p++ = ' ';
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  p += value.size();
  *p++ = '\r';
  *p = '\n';
}

[[gnu::always_inline]] inline bool check_field(PyObject* item, ResponseHead& out,
                                               std::string& why) {
  if ((!PyTuple_Check(item) && !PyList_Check(item)) || PySequence_Fast_GET_SIZE(item) != 2)
    return fail(why, "header must be a (name, value) tuple");
  std::string_view name, value;
  if (!latin1_view(PySequence_Fast_GET_ITEM(item, 0), name) || !all_tchars(name))
    return fail(why, "header name is not a token");
  if (!latin1_view(PySequence_Fast_GET_ITEM(item, 1), value))
    return fail(why, "value of header '" + std::string(name) + "' must be a latin-1 str");
  if (!all_field_value_chars(value))
    return fail(why, "value of header '" + std::string(name) +
                         "' contains CR, LF, NUL or a control character");
  value = trim_ows(value);

  switch (classify(name)) {
    case Known::ContentLength: {
      if (out.content_length) return fail(why, "more than one Content-Length header");
      if (value.empty() || value.size() > 19) return fail(why, "Content-Length is not a number");
      std::uint64_t n = 0;
      for (char c : value) {
        if (c < '0' || c > '9') return fail(why, "Content-Length is not a number");
        n = n * 10 + static_cast<unsigned>(c - '0');
      }
      out.content_length = n;
      return true;  // the serialiser writes it with the framing fields
    }
    case Known::Connection:
      if (has_close_token(value)) out.connection_close = true;
      return true;
    case Known::HopByHop: return true;
    case Known::Server: out.has_server = true; break;
    case Known::Date: out.has_date = true; break;
    case Known::Other: break;
  }
  append_field(out.fields, name, value);
  return true;
}

}  // namespace

std::string validate_response_head(PyObject* status, PyObject* headers, ResponseHead& out) {
  out = ResponseHead{};
  std::string why;
  if (!check_status(status, out, why)) return why;
  // PEP 3333: response_headers is a list of (header_name, header_value) tuples.
  if (!PyList_Check(headers) && !PyTuple_Check(headers)) return "headers must be a list of tuples";
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(headers);
  // One allocation for the usual head instead of one per doubling as fields are appended.
  if (n > 0) out.fields.reserve(static_cast<std::size_t>(n) * 48);
  for (Py_ssize_t i = 0; i < n; ++i)
    if (!check_field(PySequence_Fast_GET_ITEM(headers, i), out, why)) return why;
  return why;
}

}  // namespace gthreadd::wsgi
