#pragma once
// USR2, gunicorn's binary upgrade: the master forks and execs its own command line (the
// binary on disk may be new), handing over the listening sockets in GTHREADD_FD; the new
// master writes <pidfile>.2 and is promoted (takes <pidfile>) once the old master exits.
// Both masters serve meanwhile; WINCH and QUIT to the old one finish the dance.
//
// Thread: the master's only thread.
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "gthreadd/net/listener.hpp"

namespace gthreadd::master {

class BinaryUpgrade {
 public:
  // Reads (and clears) GTHREADD_PID / GUNICORN_PID: set when this master was exec'd by USR2.
  // `argv`: the command line to re-exec.
  explicit BinaryUpgrade(std::vector<std::string> argv);

  // USR2: forks the new master; in the child, runs `pre_exec` (the pre_exec hook) and execs.
  // Refused (logged) while an upgraded master runs or before this one has been promoted.
  void reexec(const std::vector<net::Listener>& listeners, const std::function<void()>& pre_exec);
  // True once, when the old master has gone: this master is promoted.
  bool promoted();
  // True when `pid` was the upgraded master (it exited; this master carries on).
  bool reaped(pid_t pid);

  // The master we replace, while it lives and we have not been promoted; 0 otherwise.
  [[nodiscard]] pid_t old_master() const noexcept { return old_master_; }
  // Another master uses the sockets too: unix socket files must stay when we stop.
  [[nodiscard]] bool sockets_shared() const noexcept {
    return new_master_ != 0 || old_master_ != 0;
  }

 private:
  [[noreturn]] void exec_new_master(pid_t master, const std::vector<net::Listener>& listeners,
                                    const std::function<void()>& pre_exec);

  std::vector<std::string> argv_;
  std::string start_cwd_;
  pid_t new_master_ = 0;  // the new master we forked on USR2, while it lives
  pid_t old_master_ = 0;  // when we are the new master of an upgrade, the one we replace
};

}  // namespace gthreadd::master
