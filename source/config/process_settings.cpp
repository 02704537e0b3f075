// Setting rows: the master process (daemon, pidfile, user, umask, ...) and gthreadd's
// extensions (CPU pinning, metrics, worker memory limit, control socket).
#include "gthreadd/config/setting_groups.hpp"

#include <string>
#include <vector>

#include "gthreadd/config/setting_builders.hpp"
#include "gthreadd/config/value_parsers.hpp"

namespace gthreadd::config {

using namespace builders;  // the row builders, in every file that appends rows

namespace {

std::string apply_umask(Settings& s, std::string_view value) {
  auto mask = parse_umask(value);
  if (!mask || *mask < 0 || *mask > 0777) {
    return quoted(value) + " is not a umask from 0 to 0777 (octal like 0022 or 0o22, or decimal)";
  }
  s.umask = static_cast<int>(*mask);
  return {};
}

std::string apply_cpu_affinity(Settings& s, std::string_view value) {
  std::vector<int> cpus;
  for (const auto& item : split_list(value)) {
    auto cpu = parse_integer(item);
    if (!cpu || *cpu < 0 || *cpu > 4095) {
      return quoted(item) + " is not a CPU number (a comma list such as 0,1,2)";
    }
    cpus.push_back(static_cast<int>(*cpu));
  }
  s.cpu_affinity = std::move(cpus);
  return {};
}

std::string show_cpu_affinity(const Settings& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.cpu_affinity.size(); ++i) {
    out += (i ? ", " : "") + std::to_string(s.cpu_affinity[i]);
  }
  return out + "]";
}

}  // namespace

void append_process_settings(std::vector<SettingSpec>& t) {
  t.push_back(boolean("daemon", "-D,--daemon", "detach from the terminal", &Settings::daemon));
  t.push_back(text("pidfile", "-p,--pid", "write the master pid to this file", &Settings::pidfile));
  t.push_back(text("user", "-u,--user", "run workers as this user (name or uid)", &Settings::user));
  t.push_back(
      text("group", "-g,--group", "run workers as this group (name or gid)", &Settings::group));
  t.push_back(make("umask", "-m,--umask",
                   "umask for files the server writes (octal 0022 or decimal)", Kind::Value,
                   apply_umask, [](const Settings& s) { return std::to_string(s.umask); }));
  t.push_back(boolean("initgroups", "--initgroups",
                      "set the worker's supplementary groups from --user", &Settings::initgroups));
  t.push_back(text("proc_name", "-n,--name", "process title base name", &Settings::proc_name));
  t.push_back(boolean("check_config", "--check-config",
                      "check the configuration and the app, then exit", &Settings::check_config));
  t.push_back(boolean("print_config", "--print-config",
                      "print the effective configuration, then exit", &Settings::print_config));
}

void append_extension_settings(std::vector<SettingSpec>& t) {
  t.push_back(make("cpu_affinity", "--cpu-affinity",
                   "pin worker N to the Nth CPU of this comma list", Kind::Value,
                   apply_cpu_affinity, show_cpu_affinity));
  // The master's Prometheus endpoint (metrics/master_metrics.hpp); the workers record into
  // the shared block (metrics/recorder.hpp). Parsed as --bind parses an address.
  t.push_back(make(
      "metrics_bind", "--metrics-bind",
      "serve Prometheus metrics at GET /metrics on this address (HOST:PORT, unix:PATH; off)",
      Kind::Value,
      [](Settings& s, std::string_view value) -> std::string {
        std::string error;
        auto address = parse_bind_address(trim(value), error);
        if (!address) return error;
        s.metrics_bind = std::move(*address);
        return {};
      },
      [](const Settings& s) { return s.metrics_bind ? s.metrics_bind->original : "None"; }));
  t.push_back(integer("max_worker_memory", "--max-worker-memory",
                      "replace a worker, successor first, when its RSS passes this many MiB "
                      "(0 = off)",
                      &Settings::max_worker_memory, 0, 1 << 22));
  // --- the control socket (gunicorn 25.1's control_socket, control_socket_mode and
  // control_socket_disable). gunicorn turns it on by default; gthreadd only when a path is
  // given (README, "Control socket"). ---
  t.push_back(text("control_socket", "--control-socket",
                   "unix socket for `gthreadd ctl` and gunicornc (unset: no control socket)",
                   &Settings::control_socket));
  t.back().value_name = "PATH";
  t.push_back(make(
      "control_socket_mode", "--control-socket-mode",
      "permissions of the control socket file (octal 0600 or 0o660, or decimal)", Kind::Value,
      [](Settings& s, std::string_view value) -> std::string {
        auto mode = parse_umask(value);
        if (!mode || *mode < 0 || *mode > 0777)
          return quoted(value) + " is not a file mode from 0 to 0777 (octal like 0600 or 0o660)";
        s.control_socket_mode = static_cast<int>(*mode);
        return {};
      },
      [](const Settings& s) { return std::to_string(s.control_socket_mode); }));
  t.back().value_name = "MODE";
  t.push_back(boolean("control_socket_disable", "--no-control-socket",
                      "do not create the control socket, even with --control-socket",
                      &Settings::control_socket_disable));
}

}  // namespace gthreadd::config
