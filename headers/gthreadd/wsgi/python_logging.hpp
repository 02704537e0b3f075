#pragma once
// logconfig, logconfig_dict, logconfig_json and logger_class (gunicorn 19.8-26): when one is
// set, the process builds gunicorn's Logger (gthreadd's gunicorn.glogging, or the
// logger_class subclass of it) from the settings, as gunicorn's Arbiter does: its setup()
// puts gunicorn's handlers for errorlog/accesslog on the "gunicorn.error" and
// "gunicorn.access" loggers, then dictConfig/fileConfig applies the user's configuration.
// From then on every error record goes through the Logger's level methods, every request
// through its access(resp, req, environ, request_time) (so an access record's msg is
// access_log_format and its args the atoms dict, as gunicorn's), and USR1 runs its
// reopen_files(). Nothing of this exists when none is set: spdlog and the access log file
// stay the only path, and no Python runs for logging.
#include "gthreadd/config/settings.hpp"

namespace gthreadd::wsgi {

[[nodiscard]] bool python_logging_configured(const config::Settings& settings) noexcept;

// In a process whose interpreter is started: builds the Logger and routes the error log,
// the access records and USR1 to it; with nothing configured, routes nothing to Python
// (the caller has set up spdlog's error log). Throws std::runtime_error with the Python
// error when the configuration or the logger class is refused.
void apply_python_logging(const config::Settings& settings);

// The master's side (gunicorn's Arbiter builds the Logger too, and 26.1 builds it again on
// HUP): starts the interpreter when a configuration needs one and (re)applies it, so the
// master's own records (Booting worker, WORKER TIMEOUT...) reach gunicorn.error. Workers
// forked afterwards inherit the loggers. Throws as apply_python_logging.
void apply_python_logging_in_master(const config::Settings& settings);

// The calling thread's error records never go to Python (they go to gthreadd's error log,
// --error-logfile, as without a configuration): for the hang reporter, which must write
// while C code may hold the GIL for good (WORKER TIMEOUT).
void keep_this_thread_off_python() noexcept;

}  // namespace gthreadd::wsgi
