#include "gthreadd/metrics/exposition.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "gthreadd/metrics/recorder.hpp"

namespace gthreadd::metrics {
namespace {

using namespace std::chrono_literals;

// Runs parse_exposition.py (prometheus_client's parser) on `text`; its normalised lines.
// Sets `skipped` when prometheus_client is not installed.
std::set<std::string> parse_with_prometheus_client(const std::string& text, bool& skipped) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("gthreadd-expo-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "in.txt") << text;
  const auto script = std::filesystem::path(__FILE__).parent_path() / "parse_exposition.py";
  const std::string command = "/usr/bin/python3 " + script.string() + " < " +
                              (dir / "in.txt").string() + " > " + (dir / "out.txt").string() +
                              " 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream in(dir / "out.txt");
  std::set<std::string> lines;
  std::string output, line;
  while (std::getline(in, line)) {
    lines.insert(line);
    output += line + "\n";
  }
  std::filesystem::remove_all(dir);
  skipped = WIFEXITED(status) && WEXITSTATUS(status) == 77;
  if (!skipped) {
    EXPECT_EQ(status, 0) << "prometheus_client could not parse:\n" << text << "\n" << output;
  }
  return lines;
}

std::unique_ptr<SharedBlock> filled_block() {
  std::string error;
  auto block = SharedBlock::create(4, error);
  const int a = block->claim();
  const int b = block->claim();
  const Recorder ra(&block->slot(static_cast<std::size_t>(a)));
  const Recorder rb(&block->slot(static_cast<std::size_t>(b)));
  for (int i = 0; i < 3; ++i) ra.request("GET", 200, 4ms);
  rb.request("GET", 204, 30ms);
  rb.request("POST", 500, 3s);
  rb.request("BREW", 418, 1ms);
  ra.gil_wait(1500us);
  ra.set_threads(4);
  ra.add_busy_threads(1);
  ra.add_in_flight(2);
  ra.add_waiting(1);
  rb.add_open_connections(5);
  rb.add_idle_keepalive(2);
  block->master().worker_starts.fetch_add(3);
  block->master().worker_exits[static_cast<std::size_t>(ExitReason::MaxRequests)].fetch_add(1);
  block->release(b);  // its counters live on in the retired sums
  return block;
}

TEST(Exposition, IsWellFormedForPrometheusClientsParser) {
  auto block = filled_block();
  const std::string text = render_prometheus(
      block->snapshot(), {{"http://127.0.0.1:8000", 2, 128}, {"unix:/run/a \"b\"\\c", 0, 16}});
  bool skipped = false;
  const auto lines = parse_with_prometheus_client(text, skipped);
  if (skipped) GTEST_SKIP() << "python3-prometheus-client is not installed";
  for (const char* expected : {
           "family gthreadd_requests counter",
           "sample gthreadd_requests_total method=GET,status=2xx 4.0",
           "sample gthreadd_requests_total method=POST,status=5xx 1.0",
           "sample gthreadd_requests_total method=other,status=4xx 1.0",
           "family gthreadd_request_duration_seconds histogram",
           "sample gthreadd_request_duration_seconds_bucket le=0.005 4.0",
           "sample gthreadd_request_duration_seconds_bucket le=0.025 4.0",
           "sample gthreadd_request_duration_seconds_bucket le=0.05 5.0",
           "sample gthreadd_request_duration_seconds_bucket le=2.5 5.0",
           "sample gthreadd_request_duration_seconds_bucket le=5 6.0",
           "sample gthreadd_request_duration_seconds_bucket le=+Inf 6.0",
           "sample gthreadd_request_duration_seconds_count  6.0",
           "sample gthreadd_request_duration_seconds_sum  3.043",
           "family gthreadd_gil_wait_seconds summary",
           "sample gthreadd_gil_wait_seconds_sum  0.0015",
           "sample gthreadd_gil_wait_seconds_count  1.0",
           "sample gthreadd_busy_threads  1.0",
           "sample gthreadd_idle_threads  3.0",
           "sample gthreadd_requests_in_flight  2.0",
           "sample gthreadd_requests_waiting  1.0",
           "sample gthreadd_open_connections  0.0",  // the released worker's gauges are gone
           "sample gthreadd_worker_starts_total  3.0",
           "sample gthreadd_worker_exits_total reason=max_requests 1.0",
           "sample gthreadd_worker_exits_total reason=crash 0.0",
           "sample gthreadd_listen_backlog listener=http://127.0.0.1:8000 2.0",
           "sample gthreadd_listen_backlog listener=unix:/run/a \"b\"\\c 0.0",
           "sample gthreadd_listen_backlog_limit listener=http://127.0.0.1:8000 128.0",
       }) {
    EXPECT_TRUE(lines.count(expected)) << "missing: " << expected << "\nin:\n" << text;
  }
}

TEST(Exposition, EveryFamilyHasHelpAndTypeOnce) {
  auto block = filled_block();
  const std::string text = render_prometheus(block->snapshot(), {});
  std::istringstream in(text);
  std::string line;
  std::set<std::string> typed;
  std::string last_help;
  while (std::getline(in, line)) {
    ASSERT_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0) {
      last_help = line.substr(7, line.find(' ', 7) - 7);
    } else if (line.rfind("# TYPE ", 0) == 0) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_EQ(name, last_help) << "TYPE without its HELP first";
      EXPECT_TRUE(typed.insert(name).second) << "family twice: " << name;
    }
  }
  EXPECT_EQ(text.back(), '\n');
}

TEST(Exposition, EscapesLabelValues) { EXPECT_EQ(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd"); }

TEST(ListenBacklog, CountsConnectionsTheKernelQueued) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 7), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::vector<int> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::connect(clients.back(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }
  // connect() returns once the handshake is done: the connection is in the accept queue.
  auto backlog = listen_backlog(fd);
  ASSERT_TRUE(backlog.has_value());
  EXPECT_EQ(backlog->queued, 3u);
  EXPECT_EQ(backlog->limit, 7u);
  EXPECT_EQ(total_backlog({{fd, "a"}, {clients[0], "not a listener"}}), 3);
  EXPECT_FALSE(listen_backlog(clients[0]).has_value());
  for (int c : clients) ::close(c);
  ::close(fd);
}

}  // namespace
}  // namespace gthreadd::metrics
