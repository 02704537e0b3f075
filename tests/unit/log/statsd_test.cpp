#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
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

// Reads what a stream client sent until `want` bytes arrived or the peer closed (bounded).
std::string read_stream(int listener, std::size_t want) {
  core::UniqueFd conn(::accept(listener, nullptr, nullptr));
  std::string got;
  timeval limit{5, 0};
  ::setsockopt(conn.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  char buf[2048];
  for (ssize_t n; got.size() < want && (n = ::recv(conn.get(), buf, sizeof buf, 0)) > 0;)
    got.append(buf, static_cast<std::size_t>(n));
  return got;
}

// tcp:// (gunicorn's SOCK_STREAM SysLogHandler): each message whole with its NUL, no other
// framing, so two messages arrive as one stream of two NUL-terminated lines.
TEST(SyslogWriter, SendsOverTcpAsPythonsStreamHandlerDoes) {
  core::UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  config::Settings settings;
  settings.syslog_addr = "tcp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  settings.syslog_facility = "local3";
  settings.syslog_prefix = "shop";
  SyslogWriter writer(settings, "error");
  writer.write(3, "one");
  writer.write(6, "two");
  const std::string pid = std::to_string(::getpid());
  const std::string want = "<155>gunicorn.shop.error: [" + pid + "] one" + std::string(1, '\0') +
                           "<158>gunicorn.shop.error: [" + pid + "] two" + std::string(1, '\0');
  EXPECT_EQ(read_stream(listener.get(), want.size()), want);
}

// unix://PATH: a datagram socket if the path is one, else a stream (Python tries both);
// unix://PATH#dgram insists on datagrams.
TEST(SyslogWriter, UnixAddressFallsBackToAStreamSocketUnlessDgramIsAsked) {
  const std::string path = "/tmp/gthreadd-syslog-test-" + std::to_string(::getpid()) + ".sock";
  ::unlink(path.c_str());
  core::UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  config::Settings settings;
  settings.syslog_addr = "unix://" + path + "#dgram";
  EXPECT_THROW(SyslogWriter(settings, "error"), std::runtime_error);
  settings.syslog_addr = "unix://" + path;
  SyslogWriter writer(settings, "access");
  writer.write(6, "GET / 200");
  const std::string got = read_stream(listener.get(), 1);
  EXPECT_NE(got.find("access: ["), std::string::npos) << got;
  EXPECT_EQ(got.back(), '\0');
  ::unlink(path.c_str());
}

TEST(SyslogWriter, ANonListeningTcpAddressFailsTheStartNamingIt) {
  config::Settings settings;
  settings.syslog_addr = "tcp://127.0.0.1:1";  // nothing listens on port 1
  try {
    SyslogWriter(settings, "error");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("tcp://127.0.0.1:1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gthreadd::log
