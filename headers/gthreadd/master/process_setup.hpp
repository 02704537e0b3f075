#pragma once
// Process-level options: -D/--daemon, -m/--umask, -e/--env, -u/--user, -g/--group,
// -n/--name (process titles), applied as gunicorn applies them.
#include <string>

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
