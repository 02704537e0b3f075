#pragma once
// Everything that happens once per finished request for the operator: the access log line
// (--access-logfile, and syslog with --log-syslog as gunicorn redirects access lines there)
// and gunicorn's StatsD request metrics (--statsd-host). Built once per worker; log() is
// called on a pool thread after it released the GIL.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gthreadd/config/settings.hpp"
#include "gthreadd/log/access_log.hpp"
#include "gthreadd/log/access_log_format.hpp"
#include "gthreadd/log/access_record.hpp"
#include "gthreadd/log/syslog_writer.hpp"

namespace gthreadd::log {

// With a Python logging configuration (logconfig*, logger_class) the access records go to
// gunicorn's Logger.access() in Python instead of the access log file and syslog (its
// handlers write those): wsgi sets this, before any RequestLog is built, to a function that
// takes the GIL, hands the record over and consumes record.python_environ. Unset (the
// default), nothing changes; set to nullptr, it is unset.
using AccessForwarder = std::function<void(const AccessRecord& record)>;
void set_access_forwarder(AccessForwarder forward);

class RequestLog {
 public:
  // Opens the access log when one is configured; throws std::runtime_error naming the file,
  // std::invalid_argument for a malformed --access-logformat.
  explicit RequestLog(const config::Settings& settings);

  // False when no sink wants request records: the caller then skips building them.
  [[nodiscard]] bool enabled() const noexcept;
  // Environ keys (lower-cased) the access log format prints; empty when none.
  [[nodiscard]] const std::vector<std::string>& environ_names() const noexcept {
    return environ_names_;
  }

  // Whether records go to Python (the caller then keeps the environ for it).
  [[nodiscard]] bool forwards() const noexcept { return static_cast<bool>(forward_); }

  void log(const AccessRecord& record);

 private:
  AccessForwarder forward_;  // see set_access_forwarder
  std::optional<AccessLogFormat> format_;
  std::unique_ptr<AccessLog> file_;
  std::optional<SyslogWriter> syslog_;
  std::vector<std::string> environ_names_;
};

}  // namespace gthreadd::log
