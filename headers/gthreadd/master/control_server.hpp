#pragma once
// The master's side of the control socket (gunicorn 25.1's control server, which
// `gunicornc` and `gthreadd ctl` talk to): a unix stream socket served from the master's
// own loop. gunicorn runs its server on an asyncio thread in the arbiter and had to stop it
// around every fork (a lock held by that thread deadlocked new workers, gunicorn #3509);
// here there is no thread: the Arbiter polls poll_fd() with its signalfd and calls serve(),
// which never blocks.
//
// Limits, so no client can hold up the master or its memory: non-blocking accept and I/O,
// a request of at most kMaxRequest bytes, at most kMaxClients connections (a new one evicts
// the one idle longest), a request begun or an answer unread for kRequestTimeout closes
// the connection, and an idle one closes after kIdleTimeout (gunicorn's 300 s, so an
// interactive session may sit between commands).
//
// Thread: the master's only thread.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gthreadd/core/unique_fd.hpp"
#include "gthreadd/master/control_protocol.hpp"

namespace gthreadd::master {

struct ControlReply {
  bool ok = true;
  Json data;          // when ok: the response's "data"
  std::string error;  // when not: the response's "error"
};
// Runs one command (its words, "worker", "add", "2"); may throw std::exception (an error reply).
using ControlHandler = std::function<ControlReply(const std::vector<std::string>& words)>;

class ControlServer {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kMaxClients = 16;
  static constexpr std::chrono::seconds kRequestTimeout{5};
  static constexpr std::chrono::seconds kIdleTimeout{300};

  struct Options {
    std::string path;        // absolute
    int mode = 0600;         // --control-socket-mode
    bool take_over = false;  // a new master after USR2: the old one's socket is ours now
  };
  // Binds and listens; nullptr and `error` when it cannot. An existing socket another server
  // still answers on is never replaced (unless take_over); a stale one is; a file that is
  // not a socket never is.
  static std::unique_ptr<ControlServer> open(const Options& options, std::string& error);
  // Closes every connection and removes the socket file if it is still this server's.
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Readable when a client needs attention (an epoll fd).
  [[nodiscard]] int poll_fd() const noexcept { return epoll_.get(); }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  // Accepts, reads, answers and expires what is due now, without blocking.
  void serve(const ControlHandler& handler);
  // In a forked worker: drop the fds, leave the socket file to the master.
  void close_in_child() noexcept;

 private:
  struct Client {
    core::UniqueFd fd;
    FrameReader reader{kMaxRequest};
    std::string out;               // answer bytes not yet written
    Clock::time_point since;       // connect, or the last answer written
    Clock::time_point busy_since;  // first byte of a request, or an answer pending
    bool busy = false;
    bool closing = false;      // close once `out` is written (peer done, or protocol error)
    std::uint32_t events = 0;  // what epoll watches for it
  };

  ControlServer(std::string path, core::UniqueFd listen, core::UniqueFd epoll, dev_t dev,
                ino_t ino);
  void accept_clients(Clock::time_point now);
  bool make_room();
  // false when the client is finished and must be dropped.
  bool on_readable(Client& c, const ControlHandler& handler, Clock::time_point now);
  void answer(Client& c, const std::string& payload, const ControlHandler& handler);
  bool flush(Client& c, Clock::time_point now);
  void expire(Clock::time_point now);
  void drop(int fd);

  std::string path_;
  core::UniqueFd listen_;
  core::UniqueFd epoll_;
  dev_t dev_;
  ino_t ino_;
  std::map<int, Client> clients_;
};

}  // namespace gthreadd::master
