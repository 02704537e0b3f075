#include <array>
#include <string_view>

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

std::string_view trim_ows(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// gunicorn's util.is_hoppish list plus "Trailer" (RFC 9110 §6.6.2) and Proxy-Connection.
bool is_hop_by_hop(std::string_view name) {
  static constexpr std::array<std::string_view, 10> kHop = {
      "connection", "keep-alive",        "proxy-authenticate", "proxy-authorization",
      "te",         "trailers",          "trailer",            "transfer-encoding",
      "upgrade",    "proxy-connection"};
  for (auto hop : kHop)
    if (http::iequals(name, hop)) return true;
  return false;
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

std::string check_status(PyObject* status, ResponseHead& out) {
  std::string_view s;
  if (!latin1_view(status, s)) return "status must be a latin-1 str";
  // "NNN reason": RFC 9112 §4 status-line, three digits then SP (the reason may be empty).
  if (s.size() < 4 || s[3] != ' ') return "status must be 'NNN reason'";
  for (int i = 0; i < 3; ++i)
    if (s[i] < '0' || s[i] > '9') return "status code must be three digits";
  if (s[0] == '0') return "status code must be 100-999";
  for (unsigned char c : s.substr(4))
    if (!http::is_field_value_char(c)) return "status reason contains a control character";
  out.status.assign(s);
  out.code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
  return {};
}

std::string check_field(PyObject* item, ResponseHead& out) {
  if ((!PyTuple_Check(item) && !PyList_Check(item)) || PySequence_Fast_GET_SIZE(item) != 2)
    return "header must be a (name, value) tuple";
  std::string_view name, value;
  if (!latin1_view(PySequence_Fast_GET_ITEM(item, 0), name) || !http::is_token(name))
    return "header name is not a token";
  if (!latin1_view(PySequence_Fast_GET_ITEM(item, 1), value))
    return "value of header '" + std::string(name) + "' must be a latin-1 str";
  for (unsigned char c : value)
    if (!http::is_field_value_char(c))
      return "value of header '" + std::string(name) + "' contains CR, LF, NUL or a control character";
  value = trim_ows(value);

  if (http::iequals(name, "content-length")) {
    if (out.content_length) return "more than one Content-Length header";
    if (value.empty() || value.size() > 19) return "Content-Length is not a number";
    std::uint64_t n = 0;
    for (char c : value) {
      if (c < '0' || c > '9') return "Content-Length is not a number";
      n = n * 10 + static_cast<unsigned>(c - '0');
    }
    out.content_length = n;
    return {};  // the serialiser writes it with the framing fields
  }
  if (is_hop_by_hop(name)) {
    if (http::iequals(name, "connection") && has_close_token(value)) out.connection_close = true;
    return {};
  }
  if (http::iequals(name, "server")) out.has_server = true;
  if (http::iequals(name, "date")) out.has_date = true;
  out.fields.append(name).append(": ", 2).append(value).append("\r\n", 2);
  return {};
}

}  // namespace

std::string validate_response_head(PyObject* status, PyObject* headers, ResponseHead& out) {
  out = ResponseHead{};
  if (auto why = check_status(status, out); !why.empty()) return why;
  // PEP 3333: response_headers is a list of (header_name, header_value) tuples.
  if (!PyList_Check(headers) && !PyTuple_Check(headers)) return "headers must be a list of tuples";
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(headers);
  // One allocation for the usual head instead of one per doubling as fields are appended.
  if (n > 0) out.fields.reserve(static_cast<std::size_t>(n) * 48);
  for (Py_ssize_t i = 0; i < n; ++i)
    if (auto why = check_field(PySequence_Fast_GET_ITEM(headers, i), out); !why.empty()) return why;
  return {};
}

}  // namespace gthreadd::wsgi
