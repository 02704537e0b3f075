#pragma once
// Builds Settings from every source, later wins: defaults → config file (-c, or ./gthreadd.ini
// / ./gunicorn.conf.py when a Python reader is installed) → GTHREADD_CMD_ARGS (else
// GUNICORN_CMD_ARGS) → command line (CLI11).
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "gthreadd/config/setting_source.hpp"
#include "gthreadd/config/settings.hpp"

namespace gthreadd::config {

// A bad value or unknown option; what() names the setting and the accepted form.
// exit_status: what main exits with (2 by default; 1 where gunicorn exits 1, e.g. a -c file
// that does not exist).
struct ConfigError : std::runtime_error {
  explicit ConfigError(const std::string& what, int status = 2)
      : std::runtime_error(what), exit_status(status) {}
  int exit_status;
  // The error log the sources named before the error (parse_settings fills it), so a refusal
  // also reaches the file an operator reads, not only stderr. Empty or "-": stderr only.
  std::string errorlog;
};

struct ParseOutcome {
  enum class Action { Run, Exit };  // Exit: --help / --version already printed
  Action action = Action::Run;
  int exit_code = 0;
  Settings settings;
};

// Throws ConfigError (exit code 2 in main, with the message on stderr).
ParseOutcome parse_settings(int argc, const char* const* argv);

// Config files ending in ".py" (gunicorn.conf.py): run by the embedded interpreter, not read
// as INI. The config area has no Python: the program installs the reader (wsgi's
// install_python_config_reader) and, without one, parse_settings refuses .py files.
bool is_python_config(const std::string& path);
using PythonConfigReader = std::function<std::vector<Assignment>(const std::string& path)>;
void set_python_config_reader(PythonConfigReader reader);

// --print-config: "name = value" lines for every setting, sorted by name (gunicorn style).
std::string format_settings(const Settings& settings);
// --log-level debug at boot: gunicorn's arbiter logs "Current configuration:" and then
// "  name: value" for every setting (Arbiter.setup); the lines after that header, one per
// setting, config first, in the setting table's order.
std::string format_current_configuration(const Settings& settings);

}  // namespace gthreadd::config
