#pragma once
// The signals the master obeys (gunicorn's arbiter set: HUP, TERM, INT, QUIT, TTIN, TTOU,
// USR1, USR2, WINCH, and CHLD to reap). They are blocked and queued to a signalfd, read in
// the master's loop and never handled in a signal handler, so the master does nothing
// async-signal-unsafe. What each one does is the Arbiter's business.
//
// Thread: the master's only thread.
#include <chrono>
#include <optional>

#include "gthreadd/core/unique_fd.hpp"

namespace gthreadd::master {

class MasterSignals {
 public:
  // Blocks the set, ignores SIGPIPE and opens the signalfd. Throws std::runtime_error when
  // the signalfd cannot be made.
  MasterSignals();

  // Waits until a signal is queued, `also` (if >= 0: the control socket's) is readable, or
  // `timeout` passed; true when a signal is queued.
  bool wait(std::chrono::milliseconds timeout, int also = -1) const;
  // The next queued signal, without blocking.
  [[nodiscard]] std::optional<int> next() const;
  // In a forked worker: the signalfd belongs to the master (the mask stays blocked until
  // the worker's own signalfd takes over).
  void close_in_child() noexcept { fd_.reset(); }
  // Before exec (USR2): the new master starts with nothing blocked, as a fresh process.
  static void unblock_all() noexcept;

  // "hup", "ttin", ...: gunicorn's names in "Handling signal: hup".
  static const char* name(int signo) noexcept;

 private:
  core::UniqueFd fd_;
};

}  // namespace gthreadd::master
