#pragma once
// Values collected from one source (command line, GTHREADD_CMD_ARGS, config file) before
// they are applied in precedence order.
#include <string>
#include <vector>

#include "gthreadd/config/setting_table.hpp"

namespace gthreadd::config {

struct Assignment {
  const SettingSpec* spec = nullptr;
  std::string value;
  std::string origin;  // "--workers", "gthreadd.ini:3": where a bad value came from
};

// Applies in order (later wins); a Repeatable setting is cleared before its first value
// here, so `-b` on the command line replaces the config file's binds instead of adding.
// Throws ConfigError naming the origin, the setting and the accepted form.
void apply_assignments(Settings& settings, const std::vector<Assignment>& assignments);

}  // namespace gthreadd::config
