#pragma once
// The error log: spdlog's default logger in gunicorn's line format
// "[2026-11-22 10:00:00 +0000] [pid] [INFO] message". Synchronous sinks only: the master
// forks, and spdlog's async thread must not exist across fork.
#include <spdlog/common.h>

#include <functional>
#include <string>

#include "gthreadd/config/settings.hpp"

namespace gthreadd::log {

// Sets up the default logger from --error-logfile ("-" = stderr) and --log-level.
// Throws std::runtime_error naming the file if it cannot be opened.
void init_error_log(const config::Settings& settings);

// Re-open log files (SIGUSR1): logrotate can move the file away.
void reopen_logs();

// With a Python logging configuration (wsgi/python_logging): error records go to `sink`
// only (plus the StatsD log counter when --statsd-host is set), at `level`; reopen_logs()
// also runs `reopen` (Python's file handlers). Called again, replaces both; init_error_log
// clears the hook.
void route_error_log(spdlog::sink_ptr sink, spdlog::level::level_enum level,
                     std::function<void()> reopen);

}  // namespace gthreadd::log
