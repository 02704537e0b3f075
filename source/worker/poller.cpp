#include "gthreadd/worker/poller.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <spdlog/spdlog.h>

namespace gthreadd::worker {

Poller::Poller() : epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (!epoll_) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
}

bool Poller::control(int op, int fd, std::uint32_t events, void* tag) noexcept {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = tag;
  // epoll_ctl does not return EINTR (it never sleeps), so one call decides.
  if (::epoll_ctl(epoll_.get(), op, fd, &ev) == 0) return true;
  const int error = errno;
  if (op == EPOLL_CTL_DEL && error == ENOENT) return true;
  spdlog::debug("epoll_ctl({}, fd {}): {}",
                op == EPOLL_CTL_ADD   ? "add"
                : op == EPOLL_CTL_MOD ? "mod"
                                      : "del",
                fd, std::strerror(error));
  errno = error;
  return false;
}

bool Poller::add(int fd, std::uint32_t events, void* tag) noexcept {
  return control(EPOLL_CTL_ADD, fd, events, tag);
}

bool Poller::modify(int fd, std::uint32_t events, void* tag) noexcept {
  return control(EPOLL_CTL_MOD, fd, events, tag);
}

bool Poller::remove(int fd) noexcept { return control(EPOLL_CTL_DEL, fd, 0, nullptr); }

int Poller::wait(std::span<epoll_event> events, std::chrono::microseconds timeout) noexcept {
  const auto count = static_cast<int>(events.size());
  const auto us = std::max<std::int64_t>(0, timeout.count());
  int n = -1;
  if (precise_) {
    // Sub-millisecond: the pool's wake-up grace (RunQueue) is shorter than epoll_wait's unit.
    const timespec ts{static_cast<time_t>(us / 1'000'000),
                      static_cast<long>(us % 1'000'000) * 1000};
    n = ::epoll_pwait2(epoll_.get(), events.data(), count, &ts, nullptr);
    if (n < 0 && errno == ENOSYS) precise_ = false;  // before Linux 5.11
  }
  if (!precise_)
    n = ::epoll_wait(epoll_.get(), events.data(), count, static_cast<int>((us + 999) / 1000));
  if (n < 0 && errno == EINTR) return 0;
  return n;
}

}  // namespace gthreadd::worker
