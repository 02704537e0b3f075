#pragma once
// StatsD metrics over UDP (or a unix datagram socket) with gunicorn's names and wire format
// (gunicorn/instrument/statsd.py): "<prefix>gunicorn.requests:1|c|@1.0",
// "<prefix>gunicorn.request.duration:12.5|ms", "<prefix>gunicorn.workers:4|g", each followed
// by "|#<dogstatsd tags>" when --dogstatsd-tags is set.
#include <memory>
#include <string>
#include <string_view>

#include "gthreadd/config/settings.hpp"
#include "gthreadd/log/datagram_sender.hpp"

namespace gthreadd::log {

class Statsd {
 public:
  // `address`: "HOST:PORT" or "unix:PATH" (--statsd-host). Throws std::runtime_error.
  Statsd(const std::string& address, std::string_view prefix, std::string_view dogstatsd_tags);

  void increment(std::string_view name, long value = 1) const;
  void gauge(std::string_view name, double value) const;
  void histogram(std::string_view name, double milliseconds) const;

  // The metrics gunicorn's Statsd.access sends for every request.
  void request(int status, double milliseconds) const;

 private:
  void send(std::string_view name, std::string_view value_and_type) const;

  DatagramSender sender_;
  std::string prefix_;  // with its trailing '.', as gunicorn normalises it
  std::string tags_;    // "|#a:b,c" or empty
};

// The process's StatsD client (--statsd-host), or null when none is configured.
// configure_statsd replaces it (start-up and HUP, before any worker thread exists).
void configure_statsd(const config::Settings& settings);
const Statsd* statsd() noexcept;

}  // namespace gthreadd::log
