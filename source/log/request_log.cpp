#include "gthreadd/log/request_log.hpp"

#include "gthreadd/log/statsd.hpp"

namespace gthreadd::log {
namespace {

AccessForwarder& access_forwarder() {
  static AccessForwarder forward;
  return forward;
}

}  // namespace

void set_access_forwarder(AccessForwarder forward) { access_forwarder() = std::move(forward); }

RequestLog::RequestLog(const config::Settings& settings) : forward_(access_forwarder()) {
  // gunicorn logs access records whenever a logging configuration is set; its
  // "gunicorn.access" handlers (the --access-logfile one included) decide where they go.
  if (!settings.accesslog.empty() && !forward_)
    file_ = std::make_unique<AccessLog>(settings.accesslog, settings.access_log_format);
  // gunicorn 20.1 Logger.access: syslog gets access lines unless told not to, even without
  // an access log file. Forwarded, the Logger's own SysLogHandler sends them.
  if (settings.syslog && !settings.disable_redirect_access_to_syslog && !forward_)
    syslog_.emplace(settings, "access");
  if (file_ || syslog_ || forward_) {
    format_.emplace(settings.access_log_format);
    environ_names_ = format_->environ_names();
  }
}

bool RequestLog::enabled() const noexcept { return format_.has_value() || statsd() != nullptr; }

void RequestLog::log(const AccessRecord& record) {
  if (forward_) forward_(record);
  if (format_ && (file_ || syslog_)) {
    thread_local std::string line;
    format_->format(record, line);
    if (file_) file_->write_line(line);
    if (syslog_) syslog_->write(6, line);
  }
  if (const Statsd* metrics = statsd()) {
    // gunicorn: request_time.seconds * 1000 + microseconds / 1000, a float in ms.
    metrics->request(record.status, static_cast<double>(record.duration.count()) / 1000.0);
  }
}

}  // namespace gthreadd::log
