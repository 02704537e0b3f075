#pragma once
// A connected datagram socket (UDP or unix SOCK_DGRAM) for fire-and-forget telemetry:
// StatsD metrics and syslog lines. send() never blocks and never fails loudly: a missing
// collector must not slow down or break request handling (gunicorn ignores these errors too).
#include <string>
#include <string_view>

#include "gthreadd/core/unique_fd.hpp"

namespace gthreadd::log {

class DatagramSender {
 public:
  // `host`:`port` resolved once, here (getaddrinfo), or a unix datagram socket at `path`.
  // Throws std::runtime_error naming the address when it cannot be resolved or connected.
  static DatagramSender udp(const std::string& host, const std::string& port);
  static DatagramSender unix_path(const std::string& path);

  // One datagram; thread-safe (one sendto per message on a connected socket).
  void send(std::string_view message) const noexcept;

 private:
  explicit DatagramSender(core::UniqueFd fd) : fd_(std::move(fd)) {}
  core::UniqueFd fd_;
};

}  // namespace gthreadd::log
