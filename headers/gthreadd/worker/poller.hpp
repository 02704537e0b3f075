#pragma once
// The event loop's epoll instance: RAII over the epoll fd, each registration change
// checked. Loop thread only.
#include <sys/epoll.h>

#include <chrono>
#include <cstdint>
#include <span>

#include "gthreadd/core/unique_fd.hpp"

namespace gthreadd::worker {

class Poller {
 public:
  Poller();  // throws std::runtime_error when epoll_create1 fails
  // False (errno set, logged at debug) when the kernel refused: the caller decides what a
  // failed registration means for its fd (a connection that cannot wait is closed).
  [[nodiscard]] bool add(int fd, std::uint32_t events, void* tag) noexcept;
  [[nodiscard]] bool modify(int fd, std::uint32_t events, void* tag) noexcept;
  // Removing an fd that is not registered (ENOENT) is not an error.
  bool remove(int fd) noexcept;
  // Ready events, at most events.size(); 0 when interrupted by a signal; -1 on error.
  // The timeout is honoured to the microsecond where the kernel can (epoll_pwait2), else
  // rounded up to the millisecond.
  int wait(std::span<epoll_event> events, std::chrono::microseconds timeout) noexcept;

 private:
  bool control(int op, int fd, std::uint32_t events, void* tag) noexcept;
  core::UniqueFd epoll_;
  bool precise_ = true;  // epoll_pwait2 is there
};

}  // namespace gthreadd::worker
