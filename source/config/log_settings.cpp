// Setting rows: the error and access logs, syslog, StatsD and Python logging configuration.
#include "gthreadd/config/setting_groups.hpp"

#include <string>
#include <vector>

#include "gthreadd/config/setting_builders.hpp"
#include "gthreadd/config/value_parsers.hpp"

namespace gthreadd::config {

using namespace builders;  // the row builders, in every file that appends rows

namespace {

// logconfig_dict: a .py config's dict arrives as JSON text (wsgi/python_config); gunicorn's
// default, {}, means unset. Python's dictConfig checks the rest when it is applied.
std::string apply_logconfig_dict(Settings& s, std::string_view value) {
  const std::string_view text = trim(value);
  if (text.empty() || text == "{}") {
    s.logconfig_dict.clear();
    return {};
  }
  if (!text.starts_with("{") || !text.ends_with("}"))
    return quoted(value) + " is not a dict (JSON object text)";
  s.logconfig_dict = std::string(text);
  return {};
}

// logger_class: gunicorn's defaults mean "no Python logger"; any other name is a class the
// workers import and must find to be a gunicorn.glogging.Logger subclass (wsgi/python_logging
// refuses it at start otherwise: only Python can tell).
std::string apply_logger_class(Settings& s, std::string_view value) {
  std::string name(trim(value));
  const std::string lower = lower_word(value);
  if (lower.empty() || lower == "gunicorn.glogging.logger" || lower == "simple" ||
      lower == "gunicorn.instrument.statsd.statsd") {
    s.logger_class.clear();
    return {};
  }
  if (lower.starts_with("egg:"))
    return quoted(value) +
           ": egg: entry points need gunicorn's installed package; name the class as "
           "module.Class";
  s.logger_class = std::move(name);
  return {};
}

// gunicorn's validate_statsd_address: HOST:PORT or unix:PATH.
std::string apply_statsd_host(Settings& s, std::string_view value) {
  const std::string_view address = trim(value);
  if (!address.empty() && !address.starts_with("unix:")) {
    const auto colon = address.rfind(':');
    auto port =
        colon == std::string_view::npos ? std::nullopt : parse_integer(address.substr(colon + 1));
    if (!port || *port < 1 || *port > 65535)
      return quoted(value) + " is not HOST:PORT or unix:PATH";
  }
  s.statsd_host = std::string(address);
  return {};
}

// gunicorn's parse_syslog_address: udp://, tcp:// (a stream) and unix://PATH[#dgram|#stream]
// (log/syslog_writer opens them).
std::string apply_syslog_addr(Settings& s, std::string_view value) {
  const std::string_view address = trim(value);
  if (!address.starts_with("udp://") && !address.starts_with("tcp://") &&
      !address.starts_with("unix://")) {
    return quoted(value) + " is not udp://HOST:PORT, tcp://HOST:PORT or unix://PATH[#dgram]";
  }
  s.syslog_addr = std::string(address);
  return {};
}

}  // namespace

void append_log_settings(std::vector<SettingSpec>& t) {
  t.push_back(text("errorlog", "--error-logfile,--log-file", "error log file ('-' = stderr)",
                   &Settings::errorlog));
  t.push_back(one_of("loglevel", "--log-level", "error log level", &Settings::loglevel,
                     {"debug", "info", "warning", "error", "critical"}));
  t.push_back(text("accesslog", "--access-logfile", "access log file ('-' = stdout; unset = off)",
                   &Settings::accesslog));
  t.push_back(text("access_log_format", "--access-logformat",
                   "access log line format (gunicorn atoms)", &Settings::access_log_format));
  t.push_back(boolean("disable_redirect_access_to_syslog", "--disable-redirect-access-to-syslog",
                      "do not copy access lines to syslog",
                      &Settings::disable_redirect_access_to_syslog));
  t.push_back(boolean("capture_output", "--capture-output",
                      "send the app's stdout/stderr to the error log", &Settings::capture_output));
  t.push_back(boolean("enable_stdio_inheritance", "--enable-stdio-inheritance",
                      "keep stdio open in daemon mode", &Settings::enable_stdio_inheritance));
  t.push_back(boolean("syslog", "--log-syslog", "send the error log to syslog", &Settings::syslog));
  t.push_back(make("syslog_addr", "--log-syslog-to",
                   "syslog address: udp://HOST:PORT, tcp://HOST:PORT or unix://PATH (a datagram "
                   "socket, else a stream; #dgram: datagrams only)",
                   Kind::Value, apply_syslog_addr,
                   [](const Settings& s) { return s.syslog_addr; }));
  t.push_back(text("syslog_prefix", "--log-syslog-prefix", "program name in syslog lines",
                   &Settings::syslog_prefix));
  t.push_back(one_of("syslog_facility", "--log-syslog-facility",
                     "syslog facility: user, daemon, local0 to local7, ...",
                     &Settings::syslog_facility,
                     {"auth",   "authpriv", "cron",     "daemon", "ftp",    "kern",   "lpr",
                      "mail",   "news",     "security", "syslog", "user",   "uucp",   "local0",
                      "local1", "local2",   "local3",   "local4", "local5", "local6", "local7"}));
}

// StatsD and Python logging configuration.
void append_log_config_settings(std::vector<SettingSpec>& t) {
  t.push_back(make("statsd_host", "--statsd-host", "StatsD server HOST:PORT or unix:PATH",
                   Kind::Value, apply_statsd_host,
                   [](const Settings& s) { return py_string(s.statsd_host); }));
  t.push_back(text("statsd_prefix", "--statsd-prefix", "prefix for StatsD metric names",
                   &Settings::statsd_prefix));
  t.push_back(text("dogstatsd_tags", "--dogstatsd-tags", "comma list of DogStatsD tags",
                   &Settings::dogstatsd_tags));
  t.push_back(boolean(
      "enable_backlog_metric", "--enable-backlog-metric",
      "send the TCP listeners' accept-queue length to StatsD as gunicorn.backlog (gunicorn 24.1)",
      &Settings::enable_backlog_metric));
  // gunicorn's Python logging configuration: when set, records go through Python's logging
  // (wsgi/python_logging), applied as gunicorn's glogging.Logger.setup applies it.
  t.push_back(text("logconfig", "--log-config",
                   "logging.config.fileConfig INI file: records go to Python's "
                   "gunicorn.error and gunicorn.access loggers",
                   &Settings::logconfig));
  t.push_back(
      make("logconfig_dict", "", "logging.config.dictConfig dict (JSON text in an INI file)",
           Kind::Value, apply_logconfig_dict,
           [](const Settings& s) { return s.logconfig_dict.empty() ? "{}" : s.logconfig_dict; }));
  t.push_back(text("logconfig_json", "--log-config-json", "JSON file for logging.config.dictConfig",
                   &Settings::logconfig_json));
  t.push_back(make("logger_class", "--logger-class",
                   "a gunicorn.glogging.Logger subclass (module.Class) that formats the records",
                   Kind::Value, apply_logger_class, [](const Settings& s) {
                     return s.logger_class.empty() ? std::string("gunicorn.glogging.Logger")
                                                   : s.logger_class;
                   }));
}

}  // namespace gthreadd::config
