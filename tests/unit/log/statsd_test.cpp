#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gthreadd/core/unique_fd.hpp"
#include "gthreadd/log/statsd.hpp"
#include "gthreadd/log/syslog_writer.hpp"

namespace gthreadd::log {
namespace {

// A loopback UDP socket the client under test sends to; datagrams on loopback are queued
// synchronously by sendto, so reading them right after needs no waiting.
class Collector {
 public:
  Collector() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  [[nodiscard]] std::string port() const { return std::to_string(port_); }
  std::vector<std::string> drain() {
    std::vector<std::string> out;
    char buf[2048];
    for (ssize_t n; (n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT)) >= 0;)
      out.emplace_back(buf, n);
    return out;
  }

 private:
  core::UniqueFd fd_;
  std::uint16_t port_ = 0;
};

TEST(Statsd, SendsGunicornsMetricsWithPrefixAndTags) {
  Collector collector;
  Statsd statsd("127.0.0.1:" + collector.port(), "app...", "env:prod,zone:a");
  statsd.request(503, 12.5);
  statsd.gauge("gunicorn.workers", 4);
  EXPECT_EQ(collector.drain(), (std::vector<std::string>{
                                   "app.gunicorn.request.duration:12.5|ms|#env:prod,zone:a",
                                   "app.gunicorn.requests:1|c|@1.0|#env:prod,zone:a",
                                   "app.gunicorn.request.status.503:1|c|@1.0|#env:prod,zone:a",
                                   "app.gunicorn.workers:4|g|#env:prod,zone:a",
                               }));
}

TEST(Statsd, NoPrefixNoTags) {
  Collector collector;
  Statsd statsd("localhost:" + collector.port(), "", "");
  statsd.increment("gunicorn.log.error");
  EXPECT_EQ(collector.drain(), (std::vector<std::string>{"gunicorn.log.error:1|c|@1.0"}));
}

TEST(SyslogWriter, FormatsLikeGunicornsSysLogHandler) {
  Collector collector;
  config::Settings settings;
  settings.syslog_addr = "udp://127.0.0.1:" + collector.port();
  settings.syslog_facility = "daemon";
  settings.app_uri_text = "mysite.wsgi:application";
  SyslogWriter(settings, "error").write(3, "boom");
  const auto got = collector.drain();
  ASSERT_EQ(got.size(), 1u);
  // daemon (3) * 8 + err (3) = 27; the prefix is the app URI with ':' as '.'.
  EXPECT_EQ(got[0], "<27>gunicorn.mysite.wsgi.application.error: [" + std::to_string(::getpid()) +
                        "] boom" + std::string(1, '\0'));
}

TEST(SyslogWriter, RefusesStreamAddresses) {
  config::Settings settings;
  settings.syslog_addr = "tcp://127.0.0.1:514";
  EXPECT_THROW(SyslogWriter(settings, "error"), std::runtime_error);
}

}  // namespace
}  // namespace gthreadd::log
