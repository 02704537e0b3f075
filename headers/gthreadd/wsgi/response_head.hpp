#pragma once
// The status and header fields an app gave start_response, validated, and their
// serialisation with the fields the server owns (Date, Server, framing, Connection).
#include <Python.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gthreadd::wsgi {

struct ResponseHead {
  std::string status;  // "200 OK" as latin-1 bytes
  int code = 0;
  std::string fields;  // "Name: value\r\n" for each header kept
  std::optional<std::uint64_t> content_length;
  bool has_server = false;  // the app's own Server/Date are kept, not doubled
  bool has_date = false;
  bool connection_close = false;  // the app said "Connection: close"
};

// Checks what start_response received (RFC 9110 §5.5, §5.6.2, §8.6; RFC 9112 §4) and fills
// `out`. Returns "" on success, else what was wrong (for the error log and the exception).
// Hop-by-hop fields (RFC 9110 §7.6.1) are dropped, as gunicorn does: framing and
// persistence are the server's decision.
std::string validate_response_head(PyObject* status, PyObject* headers, ResponseHead& out);

enum class BodyFraming { None, ContentLength, Chunked, CloseDelimited };

// The bytes of the response head. `derived_length` is a Content-Length the server computed
// (the whole body was known before the head went out) when the app gave none.
std::string serialize_head(const ResponseHead& head, BodyFraming framing,
                           std::optional<std::uint64_t> derived_length, bool keep_alive,
                           int version_minor);

}  // namespace gthreadd::wsgi
