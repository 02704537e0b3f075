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

// With logconfig/logconfig_dict/logconfig_json the access lines go to Python's
// "gunicorn.access" logger instead of the access log file: wsgi sets this, before any
// RequestLog is built, to a function that hands a line over. Unset (the default), nothing
// changes.
void set_access_forwarder(std::function<void(std::string_view line)> forward);

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

  void log(const AccessRecord& record);

 private:
  std::function<void(std::string_view)> forward_;  // see set_access_forwarder
  std::optional<AccessLogFormat> format_;
  std::unique_ptr<AccessLog> file_;
  std::optional<SyslogWriter> syslog_;
  std::vector<std::string> environ_names_;
};

}  // namespace gthreadd::log
