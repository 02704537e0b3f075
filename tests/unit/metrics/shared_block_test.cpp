#include "gthreadd/metrics/shared_block.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "gthreadd/metrics/recorder.hpp"

namespace gthreadd::metrics {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<SharedBlock> make_block(std::size_t slots) {
  std::string error;
  auto block = SharedBlock::create(slots, error);
  EXPECT_NE(block, nullptr) << error;
  return block;
}

std::uint64_t total_requests(const Snapshot& s) {
  std::uint64_t n = 0;
  for (const auto& by_method : s.requests)
    for (auto v : by_method) n += v;
  return n;
}

TEST(SharedBlock, SlotsForLeavesRoomForTtinAndReloads) {
  EXPECT_EQ(SharedBlock::slots_for(1), 68u);
  EXPECT_EQ(SharedBlock::slots_for(10), 104u);
  EXPECT_EQ(SharedBlock::slots_for(0), 68u);
}

TEST(SharedBlock, ThreadsOfSeveralSlotsSumUp) {
  auto block = make_block(4);
  std::vector<std::thread> threads;
  for (int w = 0; w < 3; ++w) {
    const int slot = block->claim();
    ASSERT_EQ(slot, w);
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&block, slot] {
        const Recorder r(&block->slot(static_cast<std::size_t>(slot)));
        for (int i = 0; i < 1000; ++i) r.request("GET", 200, 3ms);
        r.request("POST", 503, 20s);
      });
    }
  }
  for (auto& t : threads) t.join();
  const Snapshot s = block->snapshot();
  EXPECT_EQ(s.requests[1][static_cast<std::size_t>(Method::Get)], 6000u);
  EXPECT_EQ(s.requests[4][static_cast<std::size_t>(Method::Post)], 6u);
  EXPECT_EQ(total_requests(s), 6006u);
  EXPECT_EQ(s.duration_buckets[0], 6000u);          // 3 ms <= 0.005
  EXPECT_EQ(s.duration_buckets[kBuckets - 1], 6u);  // 20 s: only +Inf
  EXPECT_EQ(s.duration_ns, 6000ull * 3'000'000ull + 6ull * 20'000'000'000ull);
}

TEST(SharedBlock, AForkedWorkerWritesIntoTheMastersBlock) {
  auto block = make_block(2);
  const int slot = block->claim();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    install_worker_recorder(&block->slot(static_cast<std::size_t>(slot)));
    for (int i = 0; i < 250; ++i) recorder().request("DELETE", 404, 1ms);
    recorder().gil_wait(2ms);
    recorder().add_open_connections(3);
    ::_exit(0);
  }
  block->assign(slot, pid);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  Snapshot s = block->snapshot();
  EXPECT_EQ(s.requests[3][static_cast<std::size_t>(Method::Delete)], 250u);
  EXPECT_EQ(s.gil_waits, 1u);
  EXPECT_EQ(s.gil_wait_ns, 2'000'000u);
  EXPECT_EQ(s.open_connections, 3);
  // The master reaps it: its counts stay, its gauges go, its slot is free again.
  block->release(slot);
  s = block->snapshot();
  EXPECT_EQ(s.requests[3][static_cast<std::size_t>(Method::Delete)], 250u);
  EXPECT_EQ(s.gil_waits, 1u);
  EXPECT_EQ(s.open_connections, 0);
  EXPECT_TRUE(s.workers.empty());
  EXPECT_EQ(block->claim(), slot);
}

TEST(SharedBlock, ARetiredWorkersCountsAddToItsSuccessors) {
  auto block = make_block(1);
  int slot = block->claim();
  Recorder(&block->slot(0)).request("GET", 200, 1ms);
  Recorder(&block->slot(0)).add_busy_threads(1);
  block->release(slot);
  slot = block->claim();
  ASSERT_EQ(slot, 0);
  const Recorder successor(&block->slot(0));
  successor.request("GET", 200, 1ms);
  successor.set_threads(4);
  successor.add_busy_threads(1);
  const Snapshot s = block->snapshot();
  EXPECT_EQ(s.requests[1][0], 2u);
  EXPECT_EQ(s.duration_buckets[0], 2u);
  EXPECT_EQ(s.busy_threads, 1);  // the dead worker's busy thread is gone
  EXPECT_EQ(s.idle_threads, 3);
}

TEST(SharedBlock, WorkersBeyondTheCapRunWithoutASlotAndAreCounted) {
  auto block = make_block(1);
  EXPECT_EQ(block->claim(), 0);
  EXPECT_EQ(block->claim(), -1);
  EXPECT_EQ(block->snapshot().workers_without_slot, 1);
  block->release(-1);
  EXPECT_EQ(block->snapshot().workers_without_slot, 0);
}

TEST(SharedBlock, TheRssOfALiveWorkerIsSampled) {
  auto block = make_block(1);
  block->assign(block->claim(), ::getpid());
  const Snapshot s = block->snapshot();
  ASSERT_EQ(s.workers.size(), 1u);
  EXPECT_EQ(s.workers[0].pid, ::getpid());
  EXPECT_GT(s.workers[0].rss_bytes, 1 << 20);
}

TEST(Recorder, ConnectionGaugesAreStoredAsSampled) {
  auto block = make_block(1);
  const Recorder r(&block->slot(static_cast<std::size_t>(block->claim())));
  r.set_connections(5, 2);
  r.set_connections(4, 3);
  const Snapshot s = block->snapshot();
  EXPECT_EQ(s.open_connections, 4);
  EXPECT_EQ(s.idle_keepalive, 3);
}

TEST(Recorder, OffCostsNothingAndRecordsNothing) {
  const Recorder off;
  EXPECT_FALSE(off.enabled());
  off.request("GET", 200, 1ms);  // no slot: nothing to crash on
  off.add_in_flight(1);
  EXPECT_FALSE(recorder().enabled());  // the master's (and this test's) recorder
}

TEST(Recorder, ClassifiesMethodsStatusesAndBuckets) {
  EXPECT_EQ(classify_method("GET"), Method::Get);
  EXPECT_EQ(classify_method("OPTIONS"), Method::Options);
  EXPECT_EQ(classify_method("get"), Method::Other);  // methods are case-sensitive
  EXPECT_EQ(classify_method("PROPFIND"), Method::Other);
  EXPECT_EQ(status_class(101), 0u);
  EXPECT_EQ(status_class(599), 4u);
  EXPECT_EQ(status_class(0), 5u);
  EXPECT_EQ(bucket_of(5'000'000), 0u);  // le="0.005" includes 5 ms
  EXPECT_EQ(bucket_of(5'000'001), 1u);
  EXPECT_EQ(bucket_of(10'000'000'001), kBuckets - 1);
}

}  // namespace
}  // namespace gthreadd::metrics
