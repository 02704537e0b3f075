#include "gthreadd/master/master_signals.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace gthreadd::master {
namespace {

sigset_t master_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig :
       {SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD})
    sigaddset(&set, sig);
  return set;
}

}  // namespace

MasterSignals::MasterSignals() {
  sigset_t set = master_set();
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  fd_.reset(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!fd_) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
}

bool MasterSignals::wait(std::chrono::milliseconds timeout, int also) const {
  pollfd p[2] = {{fd_.get(), POLLIN, 0}, {also, POLLIN, 0}};
  return ::poll(p, also >= 0 ? 2 : 1, static_cast<int>(timeout.count())) > 0 &&
         (p[0].revents & POLLIN) != 0;
}

std::optional<int> MasterSignals::next() const {
  signalfd_siginfo info{};
  if (::read(fd_.get(), &info, sizeof info) != sizeof info) return std::nullopt;
  return static_cast<int>(info.ssi_signo);
}

void MasterSignals::unblock_all() noexcept {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

const char* MasterSignals::name(int signo) noexcept {
  switch (signo) {
    case SIGHUP: return "hup";
    case SIGTERM: return "term";
    case SIGINT: return "int";
    case SIGQUIT: return "quit";
    case SIGTTIN: return "ttin";
    case SIGTTOU: return "ttou";
    case SIGUSR1: return "usr1";
    case SIGUSR2: return "usr2";
    case SIGWINCH: return "winch";
    case SIGCHLD: return "chld";
    default: return "unknown";
  }
}

}  // namespace gthreadd::master
