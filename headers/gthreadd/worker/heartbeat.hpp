#pragma once
// The worker's liveness file in --worker-tmp-dir. The worker's event loop touches it; the
// master reads its mtime and kills a worker silent for longer than --timeout (gunicorn's
// WorkerTmp). The file is unlinked at once: only the inherited fd names it, so nothing is
// left behind when a worker dies.
#include <sys/stat.h>

#include <chrono>
#include <string>

#include "gthreadd/core/unique_fd.hpp"

namespace gthreadd::worker {

class Heartbeat {
 public:
  // Throws std::runtime_error if the file cannot be created in `dir` (empty: /dev/shm
  // when it exists, else /tmp).
  explicit Heartbeat(const std::string& dir);
  void beat() const noexcept;  // worker side
  // Worker side: it last made progress `ago` before now. The master counts --timeout from
  // that moment, so a worker beating for a past moment is timed out when that moment is
  // --timeout old, not --timeout after it stopped beating.
  void beat_since(std::chrono::nanoseconds ago) const noexcept;
  // Master side, before fork: mtime 0 means "still booting" — a worker importing a slow
  // app is not timed out until its event loop has beaten once.
  void mark_booting() const noexcept;
  [[nodiscard]] bool booting() const noexcept;
  // --max-requests: the worker asks to be replaced (it keeps serving until the master has
  // a booted successor and sends TERM, so capacity never drops to zero).
  void request_retirement() const noexcept;                  // worker side
  [[nodiscard]] bool retirement_requested() const noexcept;  // master side
  [[nodiscard]] double seconds_since_beat() const noexcept;  // master side
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }

 private:
  core::UniqueFd fd_;
};

std::string default_worker_tmp_dir();

}  // namespace gthreadd::worker
