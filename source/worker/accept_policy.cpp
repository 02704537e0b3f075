#include "gthreadd/worker/accept_policy.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace gthreadd::worker {
namespace {

// While busy, how often to look whether connections wait unaccepted (check_overflow).
constexpr std::chrono::milliseconds kOverflowCheck{5};
// Out of file descriptors: how long before accepting is tried again when none of our own
// connections closed meanwhile.
constexpr std::chrono::milliseconds kFdRetry{1000};

// Connections waiting in a listener's accept queue. TCP_INFO on a listening socket
// reports the queue length in tcpi_unacked (Linux); a unix socket only says whether one
// waits, so it counts as --threads: a burst still drains in a few checks.
std::size_t accept_queue_length(const net::Listener& listener, std::size_t threads) {
  const int fd = listener.fd.get();
  if (!listener.is_unix) {
    tcp_info info{};
    socklen_t len = sizeof info;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 && info.tcpi_state == TCP_LISTEN)
      return info.tcpi_unacked;
  }
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) return 0;
  return threads;
}

bool out_of_fds_error(int error) {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

}  // namespace

AcceptPolicy::AcceptPolicy(const config::Settings& settings, std::vector<net::Listener>& listeners,
                           Poller& poller, AcceptHost& host)
    : settings_(settings),
      listeners_(listeners),
      poller_(poller),
      host_(host),
      tags_(listeners.size()) {}

std::size_t AcceptPolicy::threads() const noexcept {
  return static_cast<std::size_t>(std::max(1, settings_.threads));
}

bool AcceptPolicy::has_capacity() const {
  // Accept only what we can serve: a worker whose threads are all busy leaves new
  // connections in the kernel queue for an idle sibling. A connection just accepted
  // brings a request: without counting it, a worker woken by a burst of connects
  // accepts all of them before the first request arrives, and its siblings get none.
  const Load load = host_.load();
  return !load.stopping && !fds_exhausted_ &&
         load.busy < static_cast<std::size_t>(settings_.threads) &&
         load.open < static_cast<std::size_t>(settings_.worker_connections);
}

std::optional<std::size_t> AcceptPolicy::listener_of(const void* tag) const {
  const char* p = static_cast<const char*>(tag);
  if (tags_.empty() || p < tags_.data() || p >= tags_.data() + tags_.size()) return std::nullopt;
  return static_cast<std::size_t>(p - tags_.data());
}

void AcceptPolicy::update_listeners() {
  const bool want = has_capacity();
  if (want == listening_) return;
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    if (!listeners_[i].fd) continue;
    const int fd = listeners_[i].fd.get();
    // EPOLLEXCLUSIVE: one worker woken per new connection, not the whole herd.
    if (want && !poller_.add(fd, EPOLLIN | EPOLLEXCLUSIVE, &tags_[i]))
      spdlog::error("Cannot watch listener {}: {}", i, std::strerror(errno));
    if (!want) poller_.remove(fd);
  }
  listening_ = want;
}

void AcceptPolicy::close_listeners() {
  update_listeners();                       // the host says it is stopping: unregisters them
  for (auto& l : listeners_) l.fd.reset();  // our copies only; the master keeps its own
}

void AcceptPolicy::accept_from(std::size_t index) {
  auto& listener = listeners_[index];
  // Take only as many as there are free threads: the rest stay queued in the kernel where
  // a sibling worker with free threads can take them.
  const std::size_t budget =
      std::max<std::size_t>(1, threads() - std::min(host_.load().busy, threads()));
  for (std::size_t i = 0; i < budget && has_capacity(); ++i) {
    const int fd = ::accept4(listener.fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (out_of_fds_error(errno)) out_of_fds(errno);
      return;
    }
    add(core::UniqueFd(fd), index);
  }
}

void AcceptPolicy::add(core::UniqueFd fd, std::size_t listener_index) {
  if (fd_episode_) {
    fd_episode_ = false;
    spdlog::info("Accepting new connections again ({} open here)", host_.load().open);
  }
  host_.add_connection(std::move(fd), listener_index);
}

void AcceptPolicy::check_overflow() {
  // Busy, so not listening: connections wait in the kernel for a sibling with a free
  // thread. When every worker is busy none has one, and a connection could wait there
  // for seconds while the accepted keep-alive connections take turns. Connections seen
  // waiting on two checks kOverflowCheck apart are taken
  // anyway and their requests queue behind the others in arrival order: this worker's
  // share of them (the queue over --workers, at most --threads per check), so that a
  // burst of connects is spread over the workers in a few checks; taking one per check
  // and worker would make the last connection of a burst wait for dozens of checks.
  const auto max_open = static_cast<std::size_t>(settings_.worker_connections);
  if (listening_ || host_.load().stopping || fds_exhausted_ || host_.load().open >= max_open) {
    overflow_check_ = {};
    overflow_seen_ = false;
    return;
  }
  const auto now = Clock::now();
  if (overflow_check_ == Clock::time_point{}) {
    overflow_check_ = now + kOverflowCheck;
    return;
  }
  if (now < overflow_check_) return;
  overflow_check_ = now + kOverflowCheck;
  bool waiting = false;
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    if (!listeners_[i].fd) continue;
    const std::size_t queued = accept_queue_length(listeners_[i], threads());
    if (queued == 0) continue;
    waiting = true;
    if (!overflow_seen_) continue;
    // At most --threads per check: whichever worker looks first would otherwise take the
    // bigger part of a burst (33 vs 17 connections, and keep-alive keeps them there).
    const std::size_t workers = static_cast<std::size_t>(std::max(1, settings_.workers));
    const std::size_t share = std::min((queued + workers - 1) / workers, threads());
    for (std::size_t taken = 0; taken < share; ++taken) {
      if (host_.load().open >= max_open) break;
      const int fd =
          ::accept4(listeners_[i].fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {  // EAGAIN: a sibling took the rest
        if (out_of_fds_error(errno)) out_of_fds(errno);
        break;
      }
      add(core::UniqueFd(fd), i);
    }
  }
  overflow_seen_ = waiting;
}

void AcceptPolicy::out_of_fds(int error) {
  // The listener stays readable while the queue holds connections, so retrying at once
  // spins (a core busy and a log line per retry): stop accepting until a connection of ours
  // closes or kFdRetry passes (fds may also be freed by the app), and say so once.
  if (!fd_episode_)
    spdlog::error(
        "accept: {}: not accepting new connections until file descriptors free up "
        "({} open here; raise the fd limit (ulimit -n, LimitNOFILE=) or lower "
        "--worker-connections)",
        std::strerror(error), host_.load().open);
  fds_exhausted_ = true;
  fd_episode_ = true;
  fds_retry_at_ = Clock::now() + kFdRetry;
  update_listeners();
}

void AcceptPolicy::tick(Clock::time_point now) {
  if (fds_exhausted_ && now >= fds_retry_at_) fds_freed();
}

}  // namespace gthreadd::worker
