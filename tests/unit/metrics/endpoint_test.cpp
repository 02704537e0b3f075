#include "gthreadd/metrics/endpoint.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "gthreadd/core/unique_fd.hpp"
#include "gthreadd/metrics/scrape_http.hpp"

namespace gthreadd::metrics {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

config::BindAddress parse(const std::string& text) {
  std::string error;
  auto address = config::parse_bind_address(text, error);
  EXPECT_TRUE(address) << error;
  return *address;
}

std::unique_ptr<Endpoint> start(const std::string& address,
                                std::vector<std::string>* log = nullptr) {
  std::string error;
  auto endpoint = Endpoint::start(
      parse(address), [] { return std::string("# HELP x y\n# TYPE x gauge\nx 1\n"); },
      [log](bool, const std::string& line) {
        if (log) log->push_back(line);
      },
      error);
  EXPECT_NE(endpoint, nullptr) << error;
  return endpoint;
}

core::UniqueFd connect_to(const std::string& url) {
  if (url.rfind("unix:", 0) == 0) {
    core::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", url.c_str() + 5);
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    return fd;
  }
  const int port = std::stoi(url.substr(url.rfind(':') + 1));
  core::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  return fd;
}

// Everything the server sends until it closes (generous deadline: never timing luck).
std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  const auto deadline = Clock::now() + 20s;
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string http_exchange(const std::string& url, const std::string& request) {
  auto fd = connect_to(url);
  ::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL);
  return read_all(fd.get());
}

TEST(Endpoint, ServesMetricsAndNothingElse) {
  auto endpoint = start("127.0.0.1:0");
  const std::string url = endpoint->url();
  ASSERT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << url;
  const std::string ok = http_exchange(url, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << ok;
  EXPECT_NE(ok.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
  EXPECT_NE(ok.find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(ok.ends_with("\r\n\r\n# HELP x y\n# TYPE x gauge\nx 1\n")) << ok;
  EXPECT_EQ(http_exchange(url, "GET /metrics?x=1 HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
  const std::string head = http_exchange(url, "HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;
  EXPECT_EQ(http_exchange(url, "GET / HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
  const std::string post =
      http_exchange(url, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(post.rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos);
  EXPECT_EQ(http_exchange(url, "garbage\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(http_exchange(url, "GET /metrics HTTP/1.1\r\n" + std::string(10000, 'a') + "\r\n\r\n")
                .rfind("HTTP/1.1 431", 0),
            0u);
}

std::size_t thread_count() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& task : std::filesystem::directory_iterator("/proc/self/task"))
    ++n;
  return n;
}

// The master forks only while single-threaded: pause() leaves no endpoint thread (a fork
// then cannot inherit a lock it held), resume() serves again, and what connected while it
// was paused waited in the backlog and is answered.
TEST(Endpoint, PauseLeavesNoThreadAndResumeServesWhatWaited) {
  const std::size_t alone = thread_count();
  auto endpoint = start("127.0.0.1:0");
  const std::string url = endpoint->url();
  EXPECT_EQ(thread_count(), alone + 1);
  endpoint->pause();
  EXPECT_EQ(thread_count(), alone);
  endpoint->pause();  // twice is harmless
  std::string answer;
  std::thread client([&] { answer = http_exchange(url, "GET /metrics HTTP/1.1\r\n\r\n"); });
  endpoint->resume();
  endpoint->resume();  // twice is harmless
  client.join();
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer;
  EXPECT_EQ(thread_count(), alone + 1);
}

TEST(Endpoint, ASilentClientIsCutOffAtTheDeadlineAndTheNextOneServed) {
  auto endpoint = start("127.0.0.1:0");
  auto silent = connect_to(endpoint->url());
  ::send(silent.get(), "GET /met", 8, MSG_NOSIGNAL);
  const auto begin = Clock::now();
  const std::string next = http_exchange(endpoint->url(), "GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(next.rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_LT(Clock::now() - begin, kScrapeDeadline + 5s);
  EXPECT_EQ(read_all(silent.get()).rfind("HTTP/1.1 408", 0), 0u);
}

TEST(Endpoint, ServesOnAUnixSocketAndRemovesIt) {
  const auto path =
      std::filesystem::temp_directory_path() / ("gthreadd-metrics-" + std::to_string(::getpid()));
  {
    auto endpoint = start("unix:" + path.string());
    EXPECT_EQ(endpoint->url(), "unix:" + path.string());
    EXPECT_EQ(
        http_exchange(endpoint->url(), "GET /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200", 0),
        0u);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Endpoint, AnAddressInUseIsLoggedAndTakenWhenItFrees) {
  auto first = start("127.0.0.1:0");
  const std::string url = first->url();
  const std::string port = url.substr(url.rfind(':') + 1);
  std::vector<std::string> log;
  auto second = start("127.0.0.1:" + port, &log);
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log.front().find("Connection in use"), std::string::npos) << log.front();
  EXPECT_EQ(second->url(), "");
  first.reset();  // the old master exits: the second takes the port within a few seconds
  const auto deadline = Clock::now() + 20s;
  while (second->url().empty() && Clock::now() < deadline) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(second->url(), url);
}

TEST(Endpoint, StopsPromptly) {
  auto endpoint = start("127.0.0.1:0");
  const auto begin = Clock::now();
  endpoint.reset();
  EXPECT_LT(Clock::now() - begin, 2s);
}

}  // namespace
}  // namespace gthreadd::metrics
