#include "gthreadd/metrics/shared_block.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "gthreadd/metrics/process_memory.hpp"

namespace gthreadd::metrics {
namespace {

constexpr auto relaxed = std::memory_order_relaxed;

// The layout in the mapping: master counters, retired sums, then the slots, each on its
// own cache lines.
constexpr std::size_t kMasterOffset = 0;
constexpr std::size_t kRetiredOffset = (sizeof(MasterCounters) + 63) / 64 * 64;
constexpr std::size_t kSlotsOffset = kRetiredOffset + sizeof(WorkerSlot);

void fold_counters(WorkerSlot& from, WorkerSlot& into) {
  for (std::size_t s = 0; s < kStatusClasses; ++s)
    for (std::size_t m = 0; m < kMethods; ++m)
      into.requests[s][m].fetch_add(from.requests[s][m].exchange(0, relaxed), relaxed);
  for (std::size_t b = 0; b < kBuckets; ++b)
    into.duration_buckets[b].fetch_add(from.duration_buckets[b].exchange(0, relaxed), relaxed);
  into.duration_ns.fetch_add(from.duration_ns.exchange(0, relaxed), relaxed);
  into.gil_wait_ns.fetch_add(from.gil_wait_ns.exchange(0, relaxed), relaxed);
  into.gil_waits.fetch_add(from.gil_waits.exchange(0, relaxed), relaxed);
}

void zero_gauges(WorkerSlot& slot) {
  for (Gauge* g : {&slot.in_flight, &slot.waiting, &slot.busy_threads, &slot.threads,
                   &slot.open_connections, &slot.idle_keepalive, &slot.rss_bytes, &slot.pid})
    g->store(0, relaxed);
}

void add_counters(const WorkerSlot& slot, Snapshot& out) {
  for (std::size_t s = 0; s < kStatusClasses; ++s)
    for (std::size_t m = 0; m < kMethods; ++m)
      out.requests[s][m] += slot.requests[s][m].load(relaxed);
  for (std::size_t b = 0; b < kBuckets; ++b)
    out.duration_buckets[b] += slot.duration_buckets[b].load(relaxed);
  out.duration_ns += slot.duration_ns.load(relaxed);
  out.gil_wait_ns += slot.gil_wait_ns.load(relaxed);
  out.gil_waits += slot.gil_waits.load(relaxed);
}

void add_gauges(const WorkerSlot& slot, Snapshot& out) {
  const std::int64_t busy = slot.busy_threads.load(relaxed);
  out.in_flight += slot.in_flight.load(relaxed);
  out.waiting += slot.waiting.load(relaxed);
  out.busy_threads += busy;
  out.idle_threads += std::max<std::int64_t>(0, slot.threads.load(relaxed) - busy);
  out.open_connections += slot.open_connections.load(relaxed);
  out.idle_keepalive += slot.idle_keepalive.load(relaxed);
}

}  // namespace

std::size_t SharedBlock::slots_for(int workers) {
  return 4 * static_cast<std::size_t>(workers > 0 ? workers : 1) + 64;
}

std::unique_ptr<SharedBlock> SharedBlock::create(std::size_t slots, std::string& error) {
  const std::size_t bytes = kSlotsOffset + slots * sizeof(WorkerSlot);
  void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) {
    error = "cannot map " + std::to_string(bytes) +
            " bytes for the metrics counters: " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<SharedBlock>(new SharedBlock(base, bytes, slots));
}

SharedBlock::SharedBlock(void* base, std::size_t bytes, std::size_t slots)
    : base_(base), bytes_(bytes), slot_count_(slots), claimed_(slots, false) {
  auto* bytes_at = static_cast<unsigned char*>(base);
  master_ = new (bytes_at + kMasterOffset) MasterCounters{};
  retired_ = new (bytes_at + kRetiredOffset) WorkerSlot{};
  slots_ = reinterpret_cast<WorkerSlot*>(bytes_at + kSlotsOffset);
  for (std::size_t i = 0; i < slots; ++i) new (&slots_[i]) WorkerSlot{};
}

SharedBlock::~SharedBlock() { ::munmap(base_, bytes_); }

int SharedBlock::claim() {
  for (std::size_t i = 0; i < slot_count_; ++i) {
    if (!claimed_[i]) {
      claimed_[i] = true;
      return static_cast<int>(i);
    }
  }
  master_->workers_without_slot.fetch_add(1, relaxed);
  return -1;
}

void SharedBlock::assign(int slot, pid_t pid) noexcept {
  if (slot >= 0 && static_cast<std::size_t>(slot) < slot_count_)
    slots_[slot].pid.store(pid, relaxed);
}

void SharedBlock::release(int slot) {
  if (slot < 0 || static_cast<std::size_t>(slot) >= slot_count_) {
    master_->workers_without_slot.fetch_sub(1, relaxed);
    return;
  }
  {
    std::lock_guard lock(fold_mutex_);
    fold_counters(slots_[slot], *retired_);
    zero_gauges(slots_[slot]);
  }
  claimed_[slot] = false;
}

Snapshot SharedBlock::snapshot() {
  Snapshot out;
  std::lock_guard lock(fold_mutex_);
  add_counters(*retired_, out);
  for (std::size_t i = 0; i < slot_count_; ++i) {
    WorkerSlot& slot = slots_[i];
    add_counters(slot, out);
    add_gauges(slot, out);
    if (const std::int64_t pid = slot.pid.load(relaxed); pid > 0) {
      const std::int64_t rss = resident_bytes(static_cast<pid_t>(pid));
      if (rss >= 0) slot.rss_bytes.store(rss, relaxed);
      out.workers.push_back({i, pid, slot.rss_bytes.load(relaxed)});
    }
  }
  out.worker_starts = master_->worker_starts.load(relaxed);
  for (std::size_t r = 0; r < kExitReasons; ++r)
    out.worker_exits[r] = master_->worker_exits[r].load(relaxed);
  out.workers_without_slot = master_->workers_without_slot.load(relaxed);
  return out;
}

}  // namespace gthreadd::metrics
