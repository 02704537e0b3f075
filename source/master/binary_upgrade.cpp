#include "gthreadd/master/binary_upgrade.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <spdlog/spdlog.h>

#include "gthreadd/master/master_signals.hpp"

namespace gthreadd::master {
namespace {

// Set for a master exec'd by USR2: the pid of the master it replaces (GUNICORN_PID too).
constexpr const char* kMasterPidEnv = "GTHREADD_PID";

}  // namespace

BinaryUpgrade::BinaryUpgrade(std::vector<std::string> argv) : argv_(std::move(argv)) {
  char cwd[4096];
  if (::getcwd(cwd, sizeof cwd)) start_cwd_ = cwd;
  for (const char* name : {kMasterPidEnv, "GUNICORN_PID"}) {
    if (const char* pid = std::getenv(name)) {
      old_master_ = static_cast<pid_t>(std::strtol(pid, nullptr, 10));
      ::unsetenv(name);
      break;
    }
  }
}

void BinaryUpgrade::reexec(const std::vector<net::Listener>& listeners,
                           const std::function<void()>& pre_exec) {
  if (new_master_ != 0) {
    spdlog::warn("USR2 ignored: an upgraded master (pid:{}) is already running", new_master_);
    return;
  }
  if (old_master_ != 0) {
    spdlog::warn("USR2 ignored: this master has not been promoted yet");
    return;
  }
  const pid_t master = ::getpid();
  spdlog::default_logger()->flush();
  const pid_t pid = ::fork();
  if (pid < 0) {
    spdlog::error("USR2: fork: {}", std::strerror(errno));
    return;
  }
  if (pid == 0) exec_new_master(master, listeners, pre_exec);
  new_master_ = pid;
}

void BinaryUpgrade::exec_new_master(pid_t master, const std::vector<net::Listener>& listeners,
                                    const std::function<void()>& pre_exec) {
  // The listening sockets survive exec; their numbers go in the environment.
  std::string fds;
  for (const auto& l : listeners) {
    ::fcntl(l.fd.get(), F_SETFD, 0);
    if (!fds.empty()) fds += ',';
    fds += std::to_string(l.fd.get());
  }
  ::setenv(net::kInheritedFdsEnv, fds.c_str(), 1);
  ::setenv(kMasterPidEnv, std::to_string(master).c_str(), 1);
  MasterSignals::unblock_all();
  if (!start_cwd_.empty() && ::chdir(start_cwd_.c_str()) != 0) ::_exit(1);
  pre_exec();
  std::vector<char*> args;
  for (auto& a : argv_) args.push_back(a.data());
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  spdlog::error("USR2: cannot exec {}: {}", argv_.empty() ? "" : argv_[0], std::strerror(errno));
  ::_exit(1);
}

bool BinaryUpgrade::promoted() {
  if (old_master_ == 0 || ::getppid() == old_master_) return false;
  spdlog::info("Master has been promoted.");
  old_master_ = 0;
  return true;
}

bool BinaryUpgrade::reaped(pid_t pid) {
  if (pid == 0 || pid != new_master_) return false;
  spdlog::error("Upgraded master (pid:{}) exited; this master carries on", pid);
  new_master_ = 0;
  return true;
}

}  // namespace gthreadd::master
