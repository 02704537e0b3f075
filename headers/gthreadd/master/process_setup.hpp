#pragma once
// Process-level options: -D/--daemon, -m/--umask, -e/--env, -u/--user, -g/--group,
// -n/--name (process titles), applied as gunicorn applies them.
#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>

#include "gthreadd/config/settings.hpp"

namespace gthreadd::master {

// Double fork + setsid; stdio to /dev/null unless --enable-stdio-inheritance. Called before
// binding, like gunicorn. Throws std::runtime_error on failure.
void daemonize(bool keep_stdio);

// -e KEY=VALUE into the environment of the master (and so of every worker). Throws
// std::runtime_error for an entry without '='.
void apply_raw_env(const config::Settings& settings);

// Worker side, after fork: switch to --group/--user (with --initgroups). Throws
// std::runtime_error naming the user or group that does not exist or cannot be used.
void drop_privileges(const config::Settings& settings);

// The uid and gid workers switch to (-u/-g as drop_privileges resolves them), or nullopt when
// neither is set. Throws std::runtime_error for an unknown user or group.
std::optional<std::pair<uid_t, gid_t>> worker_ids(const config::Settings& settings);

// gunicorn's util.chown in sock.py and glogging: a file the workers must use after dropping
// privileges (a unix socket nginx reaches as the worker user, a log file a worker re-opens on
// USR1) is given to the worker uid/gid. No-op without -u/-g. Returns "" or the reason it failed.
std::string chown_for_workers(const config::Settings& settings, const std::string& path);

// The error log and access log files (not "-"): created if missing, by the master before any
// worker drops privileges, and chowned to the worker user, so a worker can open or re-open
// them even in a directory only root may write (gunicorn opens them in the master too).
// Called at start, on HUP and on USR1 (after the master re-opened its own). Failures are
// logged as warnings: the worker's own open then reports the file.
void prepare_log_files(const config::Settings& settings);

// --log-level debug: gunicorn's Arbiter.setup logs "Current configuration:" with every
// setting, at boot and again on HUP. Nothing at info and above.
void log_current_configuration(const config::Settings& settings);

// Process titles as seen by ps/top: "gthreadd: master [name]", "gthreadd: worker [name]".
// init() must be called once from main with the original argv.
class ProcessTitle {
 public:
  static void init(int argc, char** argv);
  static void set(const std::string& title);
};

// The "[name]" part: --name, else the app URI (gunicorn's default proc_name).
std::string process_label(const config::Settings& settings);

}  // namespace gthreadd::master
