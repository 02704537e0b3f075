// RequestWatch (--request-timeout) over a socketpair, without Python: the watcher answers
// 504 when nothing was sent, cuts the response short when something was, refuses every
// write after that, and reports the worker wedged once every thread is past its limit.
#include "gthreadd/worker/request_watch.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "gthreadd/core/unique_fd.hpp"
#include "socket_pair.hpp"

namespace gthreadd::worker {
namespace {

using Pair = testing::SocketPair;

config::Settings with_timeout(double seconds) {
  config::Settings s;
  s.request_timeout = seconds;
  return s;
}

// A request begun on this thread's slot of a RequestWatch (--request-timeout `seconds`,
// `threads` pool threads), its response going to a socketpair; slot is null if the watch
// gave none. The watch is declared first so it outlives the transport and the pair, as it
// did in each test before this helper.
struct StartedRequest {
  RequestWatch watch;
  Pair pair;
  SocketTransport io{pair.server.get()};
  RequestSlot* slot;

  StartedRequest(double seconds, int threads)
      : watch(with_timeout(seconds), threads), slot(watch.own_slot()) {
    if (slot != nullptr) slot->begin(io);
  }
};

TEST(RequestWatch, OffByDefault) {
  RequestWatch watch(config::Settings{}, 2);
  EXPECT_FALSE(watch.enabled());
  EXPECT_EQ(watch.own_slot(), nullptr);
}

TEST(RequestWatch, NothingSentYetGets504AndLaterWritesAreRefused) {
  StartedRequest r(0.05, 1);
  ASSERT_NE(r.slot, nullptr);
  const std::string got = r.pair.read_to_eof();  // the watcher writes 504, then shuts writing
  EXPECT_EQ(got.rfind("HTTP/1.1 504 Gateway Timeout\r\n", 0), 0U) << got;
  EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos) << got;
  EXPECT_FALSE(r.slot->may_send());  // what the app produces now is discarded
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!r.watch.wedged() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(r.watch.wedged());  // its one thread is past the limit
  EXPECT_TRUE(r.slot->end());     // the pool closes the connection
}

TEST(RequestWatch, StartedResponseIsCutShort) {
  StartedRequest r(0.05, 2);
  ASSERT_NE(r.slot, nullptr);
  ASSERT_TRUE(r.slot->may_send());
  ASSERT_EQ(::write(r.pair.server.get(), "HTTP/1.1 200 OK\r\n", 17), 17);
  EXPECT_EQ(r.pair.read_to_eof(), "HTTP/1.1 200 OK\r\n");  // then EOF: no 504 after it
  EXPECT_FALSE(r.slot->may_send());
  EXPECT_FALSE(r.watch.wedged());  // one of two threads: the worker still serves
  EXPECT_TRUE(r.slot->end());
}

TEST(RequestWatch, RequestEndingInTimeIsUntouched) {
  StartedRequest r(5, 1);
  ASSERT_NE(r.slot, nullptr);
  EXPECT_TRUE(r.slot->may_send());
  EXPECT_FALSE(r.slot->end());
}

}  // namespace
}  // namespace gthreadd::worker
