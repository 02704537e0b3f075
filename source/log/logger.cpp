#include "gthreadd/log/logger.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>
#include <stdexcept>

#include "gthreadd/log/access_log.hpp"
#include "gthreadd/log/gunicorn_formatter.hpp"
#include "gthreadd/log/reopenable_file_sink.hpp"

namespace gthreadd::log {
namespace {

std::mutex g_sink_mutex;
std::shared_ptr<ReopenableFileSink> g_file_sink;  // null when the error log is stderr

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
  auto logger = std::make_shared<spdlog::logger>("gthreadd", sink);
  logger->set_level(to_level(settings.loglevel));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
  std::lock_guard lock(g_sink_mutex);
  g_file_sink = std::move(file_sink);
}

void reopen_logs() {
  {
    std::lock_guard lock(g_sink_mutex);
    if (g_file_sink && !g_file_sink->reopen()) {
      // The old file is closed now; say so where someone may still look.
      spdlog::sinks::stderr_sink_st().log(spdlog::details::log_msg(
          "gthreadd", spdlog::level::err, "could not re-open the error log"));
    }
  }
  reopen_access_logs();
}

}  // namespace gthreadd::log
