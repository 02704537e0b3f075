#pragma once
// The command line (CLI11) with gunicorn's flags, generated from the setting table. Used for
// argv and for GTHREADD_CMD_ARGS / GUNICORN_CMD_ARGS alike.
#include <string>
#include <string_view>
#include <vector>

#include "gthreadd/config/setting_source.hpp"

namespace gthreadd::config {

struct CliValues {
  std::vector<Assignment> assignments;  // in table order; repeated flags in the order given
  std::string config_file;              // -c/--config, empty when absent
  bool exit = false;                    // --help or --version: already printed
  int exit_code = 0;
};

// `args` excludes the program name. `origin` prefixes error messages ("GUNICORN_CMD_ARGS").
// Throws ConfigError for unknown options, missing values and refused settings.
CliValues parse_cli(std::vector<std::string> args, std::string_view origin);

}  // namespace gthreadd::config
