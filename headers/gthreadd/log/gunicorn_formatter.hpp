#pragma once
// spdlog formatter for gunicorn's error-log line:
//   [2026-11-22 10:00:00 +0000] [4242] [INFO] message
// (gunicorn's "%(asctime)s [%(process)d] [%(levelname)s] %(message)s" with datefmt
// "[%Y-%m-%d %H:%M:%S %z]", local time). spdlog's own %z prints "+00:00" and its level
// names are lower-case, hence two custom flags.
#include <spdlog/formatter.h>

#include <memory>

namespace gthreadd::log {

std::unique_ptr<spdlog::formatter> make_gunicorn_formatter();

}  // namespace gthreadd::log
