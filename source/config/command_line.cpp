#include "gthreadd/config/command_line.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "gthreadd/config/cli_options.hpp"
#include "gthreadd/config/ini_file.hpp"
#include "gthreadd/config/setting_table.hpp"
#include "gthreadd/config/shell_split.hpp"
#include "gthreadd/config/value_parsers.hpp"

namespace gthreadd::config {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// gunicorn reads FORWARDED_ALLOW_IPS for its default, and PORT for the default bind
// (0.0.0.0:$PORT, as on Heroku-style platforms).
Settings defaults() {
  Settings s;
  if (auto ips = env("FORWARDED_ALLOW_IPS"); !ips.empty()) s.forwarded_allow_ips = split_list(ips);
  return s;
}

void add_default_bind(Settings& s) {
  if (!s.bind.empty()) return;
  const auto port = env("PORT");
  std::string error;
  auto address = parse_bind_address(port.empty() ? "127.0.0.1:8000" : "0.0.0.0:" + port, error);
  if (!address) throw ConfigError("PORT: " + error);
  s.bind.push_back(std::move(*address));
}

PythonConfigReader& python_reader() {
  static PythonConfigReader reader;
  return reader;
}

CliValues environment_arguments() {
  for (const char* name : {"GTHREADD_CMD_ARGS", "GUNICORN_CMD_ARGS"}) {
    const auto text = env(name);
    if (text.empty()) continue;
    auto words = shell_split(text);
    if (!words) throw ConfigError(std::string(name) + ": unbalanced quotes or trailing backslash");
    return parse_cli(std::move(*words), name);
  }
  return {};
}

// gunicorn's message.py clamps these rather than refusing to start (MAX_REQUEST_LINE 8190,
// MAX_HEADERS 32768); configs carrying 8200 or 16384 are common. The warning is logged once,
// to the error log, by the master.
void clamp_limits(Settings& s) {
  struct Limit {
    int Settings::*field;
    const char* flag;
    int max;
  };
  for (const Limit& limit :
       {Limit{&Settings::limit_request_line, "--limit-request-line", 8190},
        Limit{&Settings::limit_request_fields, "--limit-request-fields", 32768}}) {
    if (s.*limit.field <= limit.max) continue;
    s.config_warnings.push_back(std::string(limit.flag) + " " + std::to_string(s.*limit.field) +
                                " is above the maximum; using " + std::to_string(limit.max) +
                                " (gunicorn clamps it the same way)");
    s.*limit.field = limit.max;
  }
}

// Every source in precedence order, into outcome.settings.
void read_sources(ParseOutcome& outcome, const CliValues& command_line, const CliValues& from_env) {
  std::string config_file =
      !command_line.config_file.empty() ? command_line.config_file : from_env.config_file;
  if (config_file.empty() && std::filesystem::is_regular_file("gthreadd.ini")) {
    config_file = "gthreadd.ini";
  }
  // gunicorn reads ./gunicorn.conf.py when no -c is given.
  if (config_file.empty() && python_reader() &&
      std::filesystem::is_regular_file("gunicorn.conf.py")) {
    config_file = "gunicorn.conf.py";
  }

  Settings& s = outcome.settings;
  s = defaults();
  if (!config_file.empty()) {
    // gunicorn's get_config_from_filename: "Error: 'x.py' doesn't exist", exit status 1.
    if (std::error_code ec; !std::filesystem::exists(config_file, ec)) {
      throw ConfigError("'" + config_file + "' doesn't exist", 1);
    }
    // One line, not an interpreter traceback, for a path that cannot be read as a file.
    if (std::error_code ec; !std::filesystem::is_regular_file(config_file, ec)) {
      throw ConfigError("'" + config_file + "' is not a regular file", 1);
    }
    if (::access(config_file.c_str(), R_OK) != 0) {
      throw ConfigError("cannot read '" + config_file + "': " + std::strerror(errno), 1);
    }
    if (is_python_config(config_file)) {
      if (!python_reader()) {
        throw ConfigError(config_file +
                          ": .py config files need the embedded interpreter; use an INI "
                          "file with a [gthreadd] section");
      }
      const auto assignments = python_reader()(config_file);
      // A refusal below also goes to the file's error log (errorlog_hint), wherever in the
      // file it is set; applying the file in order sets the same value again.
      for (const auto& a : assignments) {
        if (a.spec->name == "errorlog") s.errorlog = a.value;
      }
      apply_assignments(s, assignments);
    } else {
      apply_ini_file(s, config_file);
    }
  }
  apply_assignments(s, from_env.assignments);
  apply_assignments(s, command_line.assignments);
  s.config_file = config_file;

  add_default_bind(s);
  clamp_limits(s);
  if (s.print_config) s.check_config = true;  // gunicorn: --print-config implies a check
  if (s.app_uri_text.empty() && !s.print_config) {
    throw ConfigError(
        "no APP_URI given: usage: gthreadd [OPTIONS] APP_URI "
        "(or set wsgi_app in the config file)");
  }
}

// The error log as far as the sources were read: the command line over the environment
// over what the config file had set when it failed.
std::string errorlog_hint(const CliValues& command_line, const CliValues& from_env,
                          const Settings& partial) {
  for (const CliValues* source : {&command_line, &from_env}) {
    for (auto a = source->assignments.rbegin(); a != source->assignments.rend(); ++a) {
      if (a->spec->name == "errorlog") return a->value;
    }
  }
  return partial.errorlog;
}

}  // namespace

void set_python_config_reader(PythonConfigReader reader) { python_reader() = std::move(reader); }

bool is_python_config(const std::string& path) {
  return path.size() > 3 && path.compare(path.size() - 3, 3, ".py") == 0;
}

ParseOutcome parse_settings(int argc, const char* const* argv) {
  ParseOutcome outcome;
  CliValues command_line = parse_cli({argv + std::min(argc, 1), argv + argc}, "command line");
  if (command_line.exit) {
    outcome.action = ParseOutcome::Action::Exit;
    outcome.exit_code = command_line.exit_code;
    return outcome;
  }
  CliValues from_env = environment_arguments();
  try {
    read_sources(outcome, command_line, from_env);
  } catch (ConfigError& e) {
    e.errorlog = errorlog_hint(command_line, from_env, outcome.settings);
    throw;
  }
  return outcome;
}

// gunicorn's Config.__str__: names padded to the longest, sorted, "name = value".
std::string format_settings(const Settings& settings) {
  std::vector<std::pair<std::string, std::string>> lines;
  lines.emplace_back("config", settings.config_file.empty() ? "None" : settings.config_file);
  for (const auto& spec : setting_table()) {
    if (!spec.refused) lines.emplace_back(spec.name, spec.show(settings));
  }
  std::sort(lines.begin(), lines.end());
  std::size_t width = 0;
  for (const auto& line : lines) width = std::max(width, line.first.size());
  std::string out;
  for (const auto& [name, value] : lines) {
    out += name + std::string(width - name.size(), ' ') + " = " + value + "\n";
  }
  return out;
}

std::string format_current_configuration(const Settings& settings) {
  std::string out = "  config: ";
  out += settings.config_file.empty() ? "None" : settings.config_file;
  for (const auto& spec : setting_table()) {
    if (!spec.refused) out += "\n  " + std::string(spec.name) + ": " + spec.show(settings);
  }
  return out;
}

}  // namespace gthreadd::config
