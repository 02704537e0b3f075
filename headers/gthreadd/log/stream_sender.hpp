#pragma once
// Syslog over a stream socket (--log-syslog-to tcp://HOST:PORT, or a unix socket that only
// takes streams), as Python's SysLogHandler with SOCK_STREAM sends it for gunicorn: each
// message written whole, ending in the NUL the caller appends, no other framing.
//
// Logging must never hold up a request: a write waits at most kWriteWait for room, and a
// message that cannot go out whole is dropped and the connection closed (a half-written
// message would run into the next one). A closed or failed connection is retried at most
// once a second, from the next message on; what is logged meanwhile is dropped, as a
// datagram to a missing collector would be. Thread-safe: one mutex around each message.
#include <sys/socket.h>

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

#include "gthreadd/core/unique_fd.hpp"

namespace gthreadd::log {

class StreamSender {
 public:
  // Resolves and connects now, so a wrong address fails the start with a message (throws
  // std::runtime_error naming it), as gunicorn's handler fails at setup.
  static StreamSender tcp(const std::string& host, const std::string& port);
  static StreamSender unix_path(const std::string& path);

  StreamSender(StreamSender&& other) noexcept;
  StreamSender& operator=(StreamSender&&) = delete;

  void send(std::string_view message) noexcept;

 private:
  StreamSender(const sockaddr* address, socklen_t length, std::string name);
  bool reconnect() noexcept;                          // mutex_ held
  bool write_all(std::string_view message) noexcept;  // mutex_ held

  sockaddr_storage address_{};
  socklen_t length_ = 0;
  std::string name_;  // for the start-up error
  std::mutex mutex_;
  core::UniqueFd fd_;
  std::chrono::steady_clock::time_point last_attempt_{};
};

}  // namespace gthreadd::log
