#pragma once
// Syslog lines as gunicorn's SysLogHandler sends them (--log-syslog):
//   "<PRI>gunicorn.<prefix>.<name>: [pid] message\0"
// PRI = facility * 8 + severity (RFC 3164 §4.1.1); prefix = --log-syslog-prefix, else the
// process name (proc_name, else the app URI) with ':' turned into '.'. The "gunicorn." head
// is kept so existing syslog filters and log pipelines keep matching.
// Addresses as gunicorn's parse_syslog_address reads them: udp://HOST[:PORT] (514),
// tcp://HOST[:PORT] (a stream, log/stream_sender), unix://PATH (a datagram socket, else a
// stream socket, as Python's SysLogHandler tries both), unix://PATH#dgram (datagrams only).
#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gthreadd/config/settings.hpp"
#include "gthreadd/log/datagram_sender.hpp"
#include "gthreadd/log/stream_sender.hpp"

namespace gthreadd::log {

class SyslogWriter {
 public:
  // `name`: "error" or "access". Throws std::runtime_error for an address it cannot use.
  SyslogWriter(const config::Settings& settings, std::string_view name);

  // RFC 5424 severities: 2 critical, 3 error, 4 warning, 6 info, 7 debug.
  void write(int severity, std::string_view message) const;

 private:
  std::optional<DatagramSender> datagram_;
  std::unique_ptr<StreamSender> stream_;  // a pointer: the sender's mutex does not move
  int facility_ = 1;
  std::string tag_;  // "gunicorn.app.app.error: "
};

// The error log's syslog copy (spdlog sink); the writer is thread-safe, hence null_mutex.
class SyslogSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit SyslogSink(SyslogWriter writer) : writer_(std::move(writer)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  SyslogWriter writer_;
};

}  // namespace gthreadd::log
