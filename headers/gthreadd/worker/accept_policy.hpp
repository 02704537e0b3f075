#pragma once
// When a worker accepts (docs/architecture.md, "Accept only what you can serve"): listening
// only while it has a free thread, taking no more than its free threads per wake-up, taking
// its share of connections that wait in the kernel while every worker is busy (overflow),
// and pausing when file descriptors run out. Loop thread only.
#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

#include "gthreadd/config/settings.hpp"
#include "gthreadd/core/unique_fd.hpp"
#include "gthreadd/net/listener.hpp"
#include "gthreadd/worker/connection.hpp"
#include "gthreadd/worker/poller.hpp"

namespace gthreadd::worker {

// What the policy needs to know of the loop, asked fresh at each decision (an accept
// changes it).
struct Load {
  std::size_t busy = 0;  // requests in the pool or on their way (fresh connections)
  std::size_t open = 0;  // connections open in this worker
  bool stopping = false;
};

class AcceptHost {
 public:
  [[nodiscard]] virtual Load load() const = 0;
  virtual void add_connection(core::UniqueFd fd, std::size_t listener_index) = 0;

 protected:
  ~AcceptHost() = default;
};

class AcceptPolicy {
 public:
  AcceptPolicy(const config::Settings& settings, std::vector<net::Listener>& listeners,
               Poller& poller, AcceptHost& host);

  [[nodiscard]] bool has_capacity() const;
  // Registers the listeners with the poller while there is capacity, removes them when not.
  void update_listeners();
  // The listener whose epoll tag this is, if it is one.
  [[nodiscard]] std::optional<std::size_t> listener_of(const void* tag) const;
  void accept_from(std::size_t listener_index);
  // Busy, so not listening: takes this worker's share of connections waiting too long.
  void check_overflow();
  // When check_overflow wants to run next; {} when it does not.
  [[nodiscard]] Clock::time_point next_check() const noexcept { return overflow_check_; }
  void fds_freed() noexcept { fds_exhausted_ = false; }  // a connection closed
  void tick(Clock::time_point now);                      // retries after running out of fds
  // Stops listening for good and closes this worker's copies of the listeners.
  void close_listeners();

 private:
  void out_of_fds(int error);  // accept failed for want of fds: pause accepting
  void add(core::UniqueFd fd, std::size_t listener_index);
  [[nodiscard]] std::size_t threads() const noexcept;

  const config::Settings& settings_;
  std::vector<net::Listener>& listeners_;
  Poller& poller_;
  AcceptHost& host_;
  std::vector<char> tags_;  // one byte per listener: its address is the listener's epoll tag
  bool listening_ = false;
  bool fds_exhausted_ = false;  // accept hit EMFILE/ENFILE: not accepting
  Clock::time_point fds_retry_at_{};
  bool fd_episode_ = false;             // the error was logged; ends at the next accept
  Clock::time_point overflow_check_{};  // next look at the unaccepted queue; {} = off
  bool overflow_seen_ = false;          // a connection was waiting at the last look
};

}  // namespace gthreadd::worker
