#pragma once
// gunicorn's --access-logformat: a Python %-format over named atoms ("%(h)s %(l)s ...").
// Compiled once at start-up into parts, then each line is produced into a reused string
// without parsing or allocating per atom.
#include <string>
#include <string_view>
#include <vector>

#include "gthreadd/log/access_record.hpp"

namespace gthreadd::log {

class AccessLogFormat {
 public:
  // Throws std::invalid_argument naming the position of a malformed "%" directive.
  explicit AccessLogFormat(std::string_view format);

  // Replaces `out` with the line (no newline), as gunicorn's glogging.Logger.access would:
  // '"' in string atoms becomes '\"', unknown atoms print "-".
  void format(const AccessRecord& record, std::string& out) const;

  // Whether a line needs the environ callback (so callers can skip building it).
  [[nodiscard]] bool needs_environ() const noexcept { return needs_environ_; }
  // The lower-cased names of the {name}e atoms, so a caller can copy just those values out
  // of the environ while it holds the GIL and format the line after releasing it.
  [[nodiscard]] std::vector<std::string> environ_names() const;

  enum class Atom : char {
    Literal,
    RemoteAddr,
    Ident,
    User,
    Time,
    RequestLine,
    Status,
    Method,
    Path,
    Query,
    Protocol,
    BytesB,
    Bytesb,
    Referer,
    UserAgent,
    Seconds,
    Micros,
    Millis,
    SecondsDecimal,
    Pid,
    RequestHeader,
    ResponseHeader,
    Environ,
    Unknown,
  };
  struct Part {
    Atom atom = Atom::Literal;
    std::string text;  // literal text, or the lower-cased header/variable name
    int width = 0;     // "%(h)-15s": padded to width, left-justified when negative
    int precision = -1;
  };

 private:
  // A parsed "%(key)..." directive: a named atom, or a {name}i, {name}o or {name}e one.
  void add_atom(std::string_view key, Part part);

  std::vector<Part> parts_;
  bool needs_environ_ = false;
};

}  // namespace gthreadd::log
