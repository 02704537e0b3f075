#pragma once
// What the access log needs to know about one request/response. Views only: the record
// lives on the stack of whoever logs, over the request's buffers.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace gthreadd::log {

struct AccessRecord {
  using Header = std::pair<std::string_view, std::string_view>;  // name, value as received/sent

  std::string_view remote_addr;  // %(h)s; empty → "-"
  std::string_view method;       // %(m)s
  std::string_view raw_uri;      // RAW_URI: the request target as sent
  std::string_view path;         // %(U)s: PATH_INFO (decoded)
  std::string_view query;        // %(q)s: QUERY_STRING
  std::string_view protocol;     // %(H)s: "HTTP/1.1"
  int status = 0;                // %(s)s
  // %(B)s / %(b)s: body bytes sent (gunicorn's resp.sent). nullopt prints "-".
  std::optional<std::uint64_t> response_length;
  std::span<const Header> request_headers;   // %(f)s %(a)s %(u)s %({name}i)s
  std::span<const Header> response_headers;  // %({name}o)s
  // %({name}e)s: an environ value by its key (first as written, then upper-cased), or
  // nullopt. Only called when the format uses an environ atom (needs_environ()).
  std::function<std::optional<std::string>(std::string_view)> environ;
  std::chrono::system_clock::time_point start;  // request start; %(t)s is start + duration
  std::chrono::microseconds duration{0};        // %(T)s %(D)s %(M)s %(L)s
  int pid = 0;                                  // %(p)s; 0 = this process
  // For the Python access logger only (see set_access_forwarder): the status line as the
  // app gave it ("200 OK"; empty when only the code is known) and the request's WSGI
  // environ, a strong PyObject* reference the forwarder consumes (null: no app call).
  std::string_view status_text;
  void* python_environ = nullptr;
};

}  // namespace gthreadd::log
