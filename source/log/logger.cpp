#include "gthreadd/log/logger.hpp"

#include <fcntl.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "gthreadd/log/access_log.hpp"
#include "gthreadd/log/gunicorn_formatter.hpp"
#include "gthreadd/log/reopenable_file_sink.hpp"
#include "gthreadd/log/statsd.hpp"
#include "gthreadd/log/syslog_writer.hpp"

namespace gthreadd::log {
namespace {

std::mutex g_sink_mutex;
std::shared_ptr<ReopenableFileSink> g_file_sink;  // null when the error log is stderr
std::string g_capture_path;                       // --capture-output: the file fds 1 and 2 point at
std::function<void()> g_reopen_hook;              // route_error_log's, run by reopen_logs

// gunicorn's Statsd logger counts warning and worse lines as gunicorn.log.<level>.
class StatsdLogCounter final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const Statsd* metrics = statsd();
    if (!metrics) return;
    switch (msg.level) {
      case spdlog::level::warn: metrics->increment("gunicorn.log.warning"); break;
      case spdlog::level::err: metrics->increment("gunicorn.log.error"); break;
      case spdlog::level::critical: metrics->increment("gunicorn.log.critical"); break;
      default: break;
    }
  }
  void flush_() override {}
};

// --capture-output (gunicorn: only when the error log is a file): point fds 1 and 2 at it,
// so print() in the app, C extensions and child processes all land in the error log.
bool capture_output(const std::string& path) {
  std::fflush(stdout);
  std::fflush(stderr);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  const bool ok = ::dup2(fd, 1) >= 0 && ::dup2(fd, 2) >= 0;
  ::close(fd);
  return ok;
}

spdlog::level::level_enum to_level(const std::string& name) {
  if (name == "debug") return spdlog::level::debug;
  if (name == "warning") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  if (name == "critical") return spdlog::level::critical;
  return spdlog::level::info;
}

}  // namespace

void init_error_log(const config::Settings& settings) {
  std::shared_ptr<spdlog::sinks::sink> sink;
  std::shared_ptr<ReopenableFileSink> file_sink;
  if (settings.errorlog.empty() || settings.errorlog == "-") {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    try {
      file_sink = std::make_shared<ReopenableFileSink>(settings.errorlog);
    } catch (const spdlog::spdlog_ex& e) {
      throw std::runtime_error("cannot open error log '" + settings.errorlog + "': " + e.what());
    }
    sink = file_sink;
  }
  sink->set_formatter(make_gunicorn_formatter());
  std::vector<spdlog::sink_ptr> sinks{sink};
  configure_statsd(settings);
  if (statsd()) sinks.push_back(std::make_shared<StatsdLogCounter>());
  if (settings.syslog)
    sinks.push_back(std::make_shared<SyslogSink>(SyslogWriter(settings, "error")));
  std::string capture_path;
  if (settings.capture_output && file_sink) {
    if (!capture_output(settings.errorlog))
      throw std::runtime_error("--capture-output: cannot redirect stdout/stderr to '" +
                               settings.errorlog + "': " + std::strerror(errno));
    capture_path = settings.errorlog;
  }
  auto logger = std::make_shared<spdlog::logger>("gthreadd", sinks.begin(), sinks.end());
  logger->set_level(to_level(settings.loglevel));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
  std::lock_guard lock(g_sink_mutex);
  g_file_sink = std::move(file_sink);
  g_capture_path = std::move(capture_path);
  g_reopen_hook = nullptr;
}

void route_error_log(spdlog::sink_ptr sink, spdlog::level::level_enum level,
                     std::function<void()> reopen) {
  std::vector<spdlog::sink_ptr> sinks{std::move(sink)};
  if (statsd()) sinks.push_back(std::make_shared<StatsdLogCounter>());
  auto logger = std::make_shared<spdlog::logger>("gunicorn.error", sinks.begin(), sinks.end());
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
  std::lock_guard lock(g_sink_mutex);
  g_reopen_hook = std::move(reopen);
}

void reopen_logs() {
  std::function<void()> hook;
  {
    std::lock_guard lock(g_sink_mutex);
    if (g_file_sink && !g_file_sink->reopen()) {
      // The old file is closed now; say so where someone may still look.
      spdlog::sinks::stderr_sink_st().log(spdlog::details::log_msg(
          "gthreadd", spdlog::level::err, "could not re-open the error log"));
    }
    if (!g_capture_path.empty()) capture_output(g_capture_path);
    hook = g_reopen_hook;
  }
  reopen_access_logs();
  // Outside the lock: the hook takes the GIL, and a thread holding the GIL may log.
  if (hook) hook();
}

}  // namespace gthreadd::log
