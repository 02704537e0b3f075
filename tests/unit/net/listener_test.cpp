#include "gthreadd/net/listener.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gthreadd::net {
namespace {

// Retries without the second's wait, and their log lines collected in `lines` if given.
BindRetry quick(int attempts, std::function<void(bool, const std::string&)> log = {}) {
  BindRetry retry;
  retry.attempts = attempts;
  retry.delay_ms = 1;
  retry.log = std::move(log);
  return retry;
}

config::BindAddress parse(const std::string& text) {
  std::string error;
  auto addr = config::parse_bind_address(text, error);
  EXPECT_TRUE(addr) << error;
  return *addr;
}

TEST(Listener, PortZeroIsResolvedToTheRealPort) {
  config::Settings s;
  s.bind = {parse("127.0.0.1:0")};
  auto listeners = bind_listeners(s);
  ASSERT_EQ(listeners.size(), 1u);
  EXPECT_NE(listeners[0].address.port, 0);
  EXPECT_EQ(listeners[0].url(), "http://127.0.0.1:" + std::to_string(listeners[0].address.port));
}

TEST(Listener, AStaleUnixSocketFileIsReplacedButARegularFileIsNot) {
  const std::string path = "/tmp/gthreadd-listener-" + std::to_string(::getpid()) + ".sock";
  config::Settings s;
  s.bind = {parse("unix:" + path)};
  { auto first = bind_listeners(s); }  // leaves the socket file behind, as a crash would
  EXPECT_NO_THROW(bind_listeners(s));
  std::filesystem::remove(path);
  std::ofstream(path) << "not a socket";
  EXPECT_THROW(bind_listeners(s, quick(1)), std::runtime_error);
  std::filesystem::remove(path);
}

TEST(Listener, AnAddressInUseIsAnErrorNamingIt) {
  config::Settings s;
  s.bind = {parse("127.0.0.1:0")};
  auto first = bind_listeners(s);
  config::Settings again;
  again.bind = {parse("127.0.0.1:" + std::to_string(first[0].address.port))};
  std::vector<std::string> lines;
  BindRetry retry = quick(2, [&](bool debug, const std::string& line) {
    if (!debug) lines.push_back(line);
  });
  const std::string name = "('127.0.0.1', " + std::to_string(first[0].address.port) + ")";
  try {
    bind_listeners(again, retry);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "Can't connect to " + name);
  }
  // gunicorn's sock.create_sockets: each attempt logs these two lines.
  const std::vector<std::string> expected = {"Connection in use: " + name, "Retrying in 1 second.",
                                             "Connection in use: " + name, "Retrying in 1 second."};
  EXPECT_EQ(lines, expected);
}

TEST(Listener, AnAddressFreedDuringTheRetriesIsBound) {
  config::Settings s;
  s.bind = {parse("127.0.0.1:0")};
  auto first = std::make_unique<std::vector<Listener>>(bind_listeners(s));
  config::Settings again;
  again.bind = {parse("127.0.0.1:" + std::to_string((*first)[0].address.port))};
  int failures = 0;
  BindRetry retry = quick(5, [&](bool debug, const std::string& line) {
    if (!debug && line.starts_with("Connection in use") && ++failures == 2) first.reset();
  });
  auto listeners = bind_listeners(again, retry);
  ASSERT_EQ(listeners.size(), 1u);
  EXPECT_EQ(failures, 2);
}

TEST(Listener, SocketsHandedOverInTheEnvironmentReplaceBind) {
  config::Settings s;
  s.bind = {parse("127.0.0.1:0")};
  auto original = bind_listeners(s);
  const int fd = ::dup(original[0].fd.get());
  ::setenv(kInheritedFdsEnv, std::to_string(fd).c_str(), 1);
  config::Settings other;
  other.bind = {parse("127.0.0.1:1")};  // ignored: the inherited socket wins, as in gunicorn
  auto inherited = bind_listeners(other);
  EXPECT_EQ(std::getenv(kInheritedFdsEnv), nullptr) << "the variable must not leak to the app";
  ASSERT_EQ(inherited.size(), 1u);
  EXPECT_EQ(inherited[0].fd.get(), fd);
  EXPECT_EQ(inherited[0].address.port, original[0].address.port);
  EXPECT_TRUE(inherited[0].inherited);
}

TEST(Listener, AMalformedInheritedFdListIsAnError) {
  ::setenv("GUNICORN_FD", "3,x", 1);
  config::Settings s;
  EXPECT_THROW(bind_listeners(s, quick(1)), std::runtime_error);
  ::unsetenv("GUNICORN_FD");
}

}  // namespace
}  // namespace gthreadd::net
