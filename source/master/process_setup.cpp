#include "gthreadd/master/process_setup.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "gthreadd/config/command_line.hpp"

namespace gthreadd::master {
namespace {

char* g_title_start = nullptr;
std::size_t g_title_size = 0;

uid_t lookup_uid(const std::string& user, gid_t* primary_gid) {
  char* end = nullptr;
  long numeric = std::strtol(user.c_str(), &end, 10);
  if (!user.empty() && *end == '\0') {
    if (passwd* pw = ::getpwuid(static_cast<uid_t>(numeric)); pw && primary_gid)
      *primary_gid = pw->pw_gid;
    return static_cast<uid_t>(numeric);
  }
  passwd* pw = ::getpwnam(user.c_str());
  if (!pw) throw std::runtime_error("--user: no such user: " + user);
  if (primary_gid) *primary_gid = pw->pw_gid;
  return pw->pw_uid;
}

gid_t lookup_gid(const std::string& group) {
  char* end = nullptr;
  long numeric = std::strtol(group.c_str(), &end, 10);
  if (!group.empty() && *end == '\0') return static_cast<gid_t>(numeric);
  struct group* g = ::getgrnam(group.c_str());
  if (!g) throw std::runtime_error("--group: no such group: " + group);
  return g->gr_gid;
}

}  // namespace

void daemonize(bool keep_stdio) {
  // gunicorn's util.daemonize: fork, setsid, fork again so the daemon can never regain a
  // controlling terminal; cwd stays (relative app paths keep working, as in gunicorn).
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("daemonize: fork: ") + std::strerror(errno));
  if (pid > 0) ::_exit(0);
  ::setsid();
  pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("daemonize: fork: ") + std::strerror(errno));
  if (pid > 0) ::_exit(0);
  if (!keep_stdio) {
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      if (null > 2) ::close(null);
    }
  }
}

void apply_raw_env(const config::Settings& settings) {
  for (const auto& entry : settings.raw_env) {
    auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0)
      throw std::runtime_error("--env: expected KEY=VALUE, got '" + entry + "'");
    ::setenv(entry.substr(0, eq).c_str(), entry.substr(eq + 1).c_str(), 1);
  }
}

void drop_privileges(const config::Settings& settings) {
  if (settings.user.empty() && settings.group.empty()) return;
  gid_t gid = ::getgid();
  uid_t uid = ::getuid();
  gid_t user_gid = gid;
  if (!settings.user.empty()) uid = lookup_uid(settings.user, &user_gid);
  gid = settings.group.empty() ? user_gid : lookup_gid(settings.group);
  // Group before user: after setuid we may no longer change groups.
  if (settings.initgroups && !settings.user.empty()) {
    passwd* pw = ::getpwuid(uid);
    if (pw && ::initgroups(pw->pw_name, gid) != 0)
      throw std::runtime_error(std::string("--initgroups: ") + std::strerror(errno));
  } else if (::getuid() == 0) {
    ::setgroups(0, nullptr);
  }
  if (gid != ::getgid() && ::setgid(gid) != 0)
    throw std::runtime_error("--group: cannot switch to gid " + std::to_string(gid) + ": " +
                             std::strerror(errno));
  if (uid != ::getuid() && ::setuid(uid) != 0)
    throw std::runtime_error("--user: cannot switch to uid " + std::to_string(uid) + ": " +
                             std::strerror(errno));
}

std::optional<std::pair<uid_t, gid_t>> worker_ids(const config::Settings& settings) {
  if (settings.user.empty() && settings.group.empty()) return std::nullopt;
  gid_t user_gid = ::getgid();
  const uid_t uid = settings.user.empty() ? ::getuid() : lookup_uid(settings.user, &user_gid);
  const gid_t gid = settings.group.empty() ? user_gid : lookup_gid(settings.group);
  return std::make_pair(uid, gid);
}

std::string chown_for_workers(const config::Settings& settings, const std::string& path) {
  std::optional<std::pair<uid_t, gid_t>> ids;
  try {
    ids = worker_ids(settings);
  } catch (const std::exception& e) {
    return e.what();
  }
  if (!ids) return {};
  if (::chown(path.c_str(), ids->first, ids->second) != 0) {
    return "cannot chown '" + path + "' to " + std::to_string(ids->first) + ":" +
           std::to_string(ids->second) + ": " + std::strerror(errno);
  }
  return {};
}

void log_current_configuration(const config::Settings& settings) {
  if (!spdlog::should_log(spdlog::level::debug)) return;
  spdlog::debug("Current configuration:\n{}", config::format_current_configuration(settings));
}

void prepare_log_files(const config::Settings& settings) {
  if (settings.user.empty() && settings.group.empty()) return;
  for (const std::string* path : {&settings.errorlog, &settings.accesslog}) {
    if (path->empty() || *path == "-") continue;
    const int fd = ::open(path->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      spdlog::warn("cannot create log file '{}': {}", *path, std::strerror(errno));
      continue;
    }
    ::close(fd);
    if (auto error = chown_for_workers(settings, *path); !error.empty()) spdlog::warn("{}", error);
  }
}

void ProcessTitle::init(int argc, char** argv) {
  // The title is written over the original argv strings, which the kernel shows in
  // /proc/PID/cmdline; only their contiguous span is ours to overwrite.
  if (argc <= 0 || !argv || !argv[0]) return;
  g_title_start = argv[0];
  char* end = argv[0] + std::strlen(argv[0]) + 1;
  for (int i = 1; i < argc; ++i)
    if (argv[i] == end) end = argv[i] + std::strlen(argv[i]) + 1;
  g_title_size = static_cast<std::size_t>(end - g_title_start);
}

void ProcessTitle::set(const std::string& title) {
  ::prctl(PR_SET_NAME, title.substr(0, 15).c_str(), 0, 0, 0);
  if (!g_title_start || g_title_size < 2) return;
  std::size_t n = std::min(title.size(), g_title_size - 1);
  std::memcpy(g_title_start, title.data(), n);
  std::memset(g_title_start + n, 0, g_title_size - n);
}

std::string process_label(const config::Settings& settings) {
  return settings.proc_name.empty() ? settings.app_uri_text : settings.proc_name;
}

}  // namespace gthreadd::master
