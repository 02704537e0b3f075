#pragma once
// logconfig, logconfig_dict, logconfig_json (gunicorn 19.8-26): when one is set, the error
// log and the access log go through Python's logging, to the loggers "gunicorn.error" and
// "gunicorn.access", configured as gunicorn's glogging.Logger.setup configures them, so the
// formatters and handlers teams ship (JSON, files, queues) work unchanged. Nothing of this
// exists when none is set: spdlog and the access log file stay the only path.
#include "gthreadd/config/settings.hpp"

namespace gthreadd::wsgi {

[[nodiscard]] bool python_logging_configured(const config::Settings& settings) noexcept;

// In a process whose interpreter is started (GIL held): runs gunicorn's setup (its handlers
// for errorlog/accesslog, then dictConfig or fileConfig over CONFIG_DEFAULTS) and routes
// spdlog's records and the access lines to the two loggers. Throws std::runtime_error with
// the Python error when the configuration is refused.
void apply_python_logging(const config::Settings& settings);

}  // namespace gthreadd::wsgi
