#include "gthreadd/log/statsd.hpp"

#include <fmt/format.h>

namespace gthreadd::log {
namespace {

DatagramSender open_sender(const std::string& address) {
  if (address.starts_with("unix:")) return DatagramSender::unix_path(address.substr(5));
  const auto colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  // "[::1]:8125": getaddrinfo wants the bare address.
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return DatagramSender::udp(host, address.substr(colon + 1));
}

// gunicorn: re.sub(r"^(.+[^.]+)\.*$", "\g<1>.", prefix): one trailing dot, unless empty.
std::string normalise_prefix(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty() && out.back() == '.') out.pop_back();
  if (!out.empty()) out += '.';
  return out;
}

std::unique_ptr<Statsd> g_statsd;

}  // namespace

Statsd::Statsd(const std::string& address, std::string_view prefix, std::string_view dogstatsd_tags)
    : sender_(open_sender(address)),
      prefix_(normalise_prefix(prefix)),
      tags_(dogstatsd_tags.empty() ? "" : "|#" + std::string(dogstatsd_tags)) {}

void Statsd::send(std::string_view name, std::string_view value_and_type) const {
  thread_local std::string message;
  message.clear();
  message.append(prefix_).append(name).append(":").append(value_and_type).append(tags_);
  sender_.send(message);
}

void Statsd::increment(std::string_view name, long value) const {
  send(name, fmt::format("{}|c|@1.0", value));
}

void Statsd::gauge(std::string_view name, double value) const {
  send(name, fmt::format("{}|g", value));
}

void Statsd::histogram(std::string_view name, double milliseconds) const {
  send(name, fmt::format("{}|ms", milliseconds));
}

void Statsd::request(int status, double milliseconds) const {
  histogram("gunicorn.request.duration", milliseconds);
  increment("gunicorn.requests");
  increment(fmt::format("gunicorn.request.status.{}", status));
}

void configure_statsd(const config::Settings& settings) {
  g_statsd = settings.statsd_host.empty()
                 ? nullptr
                 : std::make_unique<Statsd>(settings.statsd_host, settings.statsd_prefix,
                                            settings.dogstatsd_tags);
}

const Statsd* statsd() noexcept { return g_statsd.get(); }

}  // namespace gthreadd::log
