#include "gthreadd/metrics/master_metrics.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gthreadd/metrics/recorder.hpp"

namespace gthreadd::metrics {
namespace {

using namespace std::chrono_literals;

int exited(int code) { return (code & 0xff) << 8; }  // a wait status as waitpid builds it
int killed(int sig) { return sig & 0x7f; }

TEST(ClassifyExit, NamesWhatTheMasterAskedForFirst) {
  EXPECT_EQ(classify_exit(killed(SIGABRT), {.timed_out = true}), ExitReason::Timeout);
  EXPECT_EQ(classify_exit(killed(SIGKILL), {.timed_out = true}), ExitReason::Timeout);
  EXPECT_EQ(classify_exit(exited(0), {.memory = true, .asked_to_stop = true}), ExitReason::Memory);
  EXPECT_EQ(classify_exit(exited(3), {.boot_failed = true}), ExitReason::Boot);
  EXPECT_EQ(classify_exit(exited(0), {.max_requests = true, .asked_to_stop = true}),
            ExitReason::MaxRequests);
  EXPECT_EQ(classify_exit(killed(SIGKILL), {.max_requests = true, .asked_to_stop = true}),
            ExitReason::MaxRequests);
  EXPECT_EQ(classify_exit(exited(0), {.asked_to_stop = true}), ExitReason::Other);
  EXPECT_EQ(classify_exit(killed(SIGKILL), {.asked_to_stop = true}), ExitReason::Other);
}

TEST(ClassifyExit, ASignalOrFailureNobodyAskedForIsACrash) {
  EXPECT_EQ(classify_exit(killed(SIGSEGV), {}), ExitReason::Crash);
  EXPECT_EQ(classify_exit(killed(SIGKILL), {}), ExitReason::Crash);  // the OOM killer
  EXPECT_EQ(classify_exit(exited(1), {}), ExitReason::Crash);
  EXPECT_EQ(classify_exit(killed(SIGSEGV), {.asked_to_stop = true}), ExitReason::Crash);
  EXPECT_EQ(classify_exit(exited(0), {}), ExitReason::Other);
}

TEST(MasterMetrics, OffWithoutAnAddress) {
  std::string error;
  EXPECT_EQ(MasterMetrics::start(std::nullopt, 2, {}, {}, error), nullptr);
  EXPECT_TRUE(error.empty());
}

std::string scrape(const std::string& url) {
  const int port = std::stoi(url.substr(url.rfind(':') + 1));
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, 20000) > 0) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST(MasterMetrics, AWorkersCountsOutliveItAndItsExitIsCounted) {
  std::string error;
  std::vector<std::string> log;
  config::BindAddress bind;
  bind.host = "127.0.0.1";
  bind.port = 0;
  auto m = MasterMetrics::start(
      bind, 1, {}, [&](bool, const std::string& line) { log.push_back(line); }, error);
  ASSERT_NE(m, nullptr) << error;
  ASSERT_FALSE(m->url().empty());
  const int slot = m->before_fork();
  ASSERT_GE(slot, 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    m->in_child(slot);
    for (int i = 0; i < 7; ++i) recorder().request("GET", 200, 2ms);
    ::_exit(0);
  }
  m->forked(slot, pid);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  m->reaped(pid + 100000, ExitReason::Crash);  // not a worker: ignored
  m->reaped(pid, classify_exit(status, {.max_requests = true, .asked_to_stop = true}));
  const std::string text = scrape(m->url());
  EXPECT_NE(text.find("gthreadd_requests_total{method=\"GET\",status=\"2xx\"} 7\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("gthreadd_worker_starts_total 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("gthreadd_worker_exits_total{reason=\"max_requests\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("gthreadd_worker_exits_total{reason=\"crash\"} 0\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("gthreadd_workers 0\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace gthreadd::metrics
