#pragma once
// The metrics block: one anonymous MAP_SHARED mapping the master creates before it forks
// any worker, so every worker (and every replacement) inherits the same pages. RAII: the
// mapping lives as long as the object (in the master; a worker _exit()s with it mapped).
//
// Sizing: the block is sized once, at start, for slots_for(--workers) slots: 4 x workers +
// 64. TTIN raises the worker count and a reload starts the new workers before the old ones
// stop, so the live count can pass --workers; the cap leaves room for that and then some.
// A worker started when every slot is taken runs without metrics (its Recorder is off):
// it is counted in gthreadd_workers_without_metrics so the gap shows, and the master logs it.
//
// Threads and processes: workers write their own slot (Recorder); the master alone claims,
// assigns and releases slots (its main thread); snapshot() runs on the master's endpoint
// thread. release() and snapshot() share a mutex in the master's own memory, so a scrape
// never sees a reaped worker's counts both in its slot and in the retired sums.
#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gthreadd/metrics/layout.hpp"

namespace gthreadd::metrics {

// Plain numbers summed over every slot and the retired sums, as the exposition writes them.
struct Snapshot {
  std::array<std::array<std::uint64_t, kMethods>, kStatusClasses> requests{};
  std::array<std::uint64_t, kBuckets> duration_buckets{};  // per bucket, not cumulative
  std::uint64_t duration_ns = 0;
  std::uint64_t gil_wait_ns = 0;
  std::uint64_t gil_waits = 0;
  std::int64_t in_flight = 0, waiting = 0, busy_threads = 0, idle_threads = 0;
  std::int64_t open_connections = 0, idle_keepalive = 0;
  struct WorkerMemory {
    std::size_t slot;
    std::int64_t pid;
    std::int64_t rss_bytes;
  };
  std::vector<WorkerMemory> workers;  // live workers with a slot
  std::uint64_t worker_starts = 0;
  std::array<std::uint64_t, kExitReasons> worker_exits{};
  std::int64_t workers_without_slot = 0;
};

class SharedBlock {
 public:
  // The slot count for a server started with `workers` workers (see above).
  static std::size_t slots_for(int workers);
  // Maps the block; nullptr and `error` (mmap's reason) when it cannot.
  static std::unique_ptr<SharedBlock> create(std::size_t slots, std::string& error);
  ~SharedBlock();
  SharedBlock(const SharedBlock&) = delete;
  SharedBlock& operator=(const SharedBlock&) = delete;

  [[nodiscard]] std::size_t slot_count() const noexcept { return slot_count_; }
  [[nodiscard]] WorkerSlot& slot(std::size_t index) noexcept { return slots_[index]; }
  [[nodiscard]] MasterCounters& master() noexcept { return *master_; }

  // Master, before fork: a free slot for the next worker, or -1 when all are taken (then
  // workers_without_slot is raised; give -1 back to release() on reap to lower it).
  int claim();
  // Master, after fork: the worker's pid, for the RSS gauge and the workers count.
  void assign(int slot, pid_t pid) noexcept;
  // Master, on reap: folds the slot's counters into the retired sums, zeroes the slot and
  // frees it. -1: the worker had no slot.
  void release(int slot);
  // Endpoint thread: the sums, with each live worker's RSS read from /proc first.
  [[nodiscard]] Snapshot snapshot();

 private:
  SharedBlock(void* base, std::size_t bytes, std::size_t slots);

  void* base_;
  std::size_t bytes_;
  std::size_t slot_count_;
  MasterCounters* master_;
  WorkerSlot* retired_;  // counters of reaped workers; gauges stay 0
  WorkerSlot* slots_;
  std::vector<bool> claimed_;  // master thread only
  std::mutex fold_mutex_;      // release() vs snapshot(), both in the master
};

}  // namespace gthreadd::metrics
