#include "gthreadd/log/syslog_writer.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

namespace gthreadd::log {
namespace {

// RFC 3164 §4.1.1 facility codes (Python's SysLogHandler.facility_names).
int facility_code(const std::string& name) {
  static constexpr std::array<std::pair<std::string_view, int>, 21> codes{{
      {"kern", 0},     {"user", 1},      {"mail", 2},    {"daemon", 3},  {"auth", 4},
      {"security", 4}, {"syslog", 5},    {"lpr", 6},     {"news", 7},    {"uucp", 8},
      {"cron", 9},     {"authpriv", 10}, {"ftp", 11},    {"local0", 16}, {"local1", 17},
      {"local2", 18},  {"local3", 19},   {"local4", 20}, {"local5", 21}, {"local6", 22},
      {"local7", 23},
  }};
  for (const auto& [key, code] : codes)
    if (key == name) return code;
  throw std::runtime_error("unknown syslog facility '" + name + "'");
}

struct Senders {
  std::optional<DatagramSender> datagram;
  std::unique_ptr<StreamSender> stream;
};

Senders open_address(const std::string& address) {
  if (address.starts_with("udp://") || address.starts_with("tcp://")) {
    const std::string rest = address.substr(6);
    const auto colon = rest.rfind(':');
    std::string host = colon == std::string::npos ? rest : rest.substr(0, colon);
    const std::string port = colon == std::string::npos ? "514" : rest.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    if (host.empty()) host = "localhost";  // gunicorn: "tcp://" alone is localhost:514
    if (address.starts_with("udp://")) return {DatagramSender::udp(host, port), nullptr};
    return {std::nullopt, std::make_unique<StreamSender>(StreamSender::tcp(host, port))};
  }
  if (address.starts_with("unix://")) {
    std::string path = address.substr(7);
    bool datagrams_only = false;
    if (const auto hash = path.find('#'); hash != std::string::npos) {
      datagrams_only = path.substr(hash + 1) == "dgram";
      path.resize(hash);
    }
    // Python's SysLogHandler, given no socket type, tries a datagram socket and then a
    // stream one; gunicorn passes none unless the address ends in #dgram.
    try {
      return {DatagramSender::unix_path(path), nullptr};
    } catch (const std::runtime_error&) {
      if (datagrams_only) throw;
    }
    return {std::nullopt, std::make_unique<StreamSender>(StreamSender::unix_path(path))};
  }
  throw std::runtime_error("--log-syslog-to " + address +
                           ": use udp://HOST:PORT, tcp://HOST:PORT or unix://PATH");
}

std::string tag_for(const config::Settings& s, std::string_view name) {
  std::string prefix = !s.syslog_prefix.empty() ? s.syslog_prefix
                       : !s.proc_name.empty()   ? s.proc_name
                                                : s.app_uri_text;
  for (auto& c : prefix)
    if (c == ':') c = '.';
  return fmt::format("gunicorn.{}.{}: ", prefix, name);
}

}  // namespace

SyslogWriter::SyslogWriter(const config::Settings& settings, std::string_view name)
    : facility_(facility_code(settings.syslog_facility)), tag_(tag_for(settings, name)) {
  auto senders = open_address(settings.syslog_addr);
  datagram_ = std::move(senders.datagram);
  stream_ = std::move(senders.stream);
}

void SyslogWriter::write(int severity, std::string_view message) const {
  thread_local std::string line;
  line.clear();
  // Python's SysLogHandler appends a NUL (append_nul = True); collectors strip it.
  fmt::format_to(std::back_inserter(line), "<{}>{}[{}] {}", facility_ * 8 + severity, tag_,
                 ::getpid(), message);
  line.push_back('\0');
  if (stream_) stream_->send(line);
  else datagram_->send(line);
}

void SyslogSink::sink_it_(const spdlog::details::log_msg& msg) {
  int severity = 6;
  switch (msg.level) {
    case spdlog::level::trace:
    case spdlog::level::debug: severity = 7; break;
    case spdlog::level::warn: severity = 4; break;
    case spdlog::level::err: severity = 3; break;
    case spdlog::level::critical: severity = 2; break;
    default: break;
  }
  writer_.write(severity, std::string_view(msg.payload.data(), msg.payload.size()));
}

}  // namespace gthreadd::log
