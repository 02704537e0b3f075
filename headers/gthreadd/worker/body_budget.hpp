#pragma once
// What one worker may hold of request bodies: bytes in memory (--max-body-memory) and
// bytes spilled to --body-tmp-dir (--max-body-disk). Bodies are read whole before the app
// runs, so without a cap a few slow uploaders could pin memory or fill a disk (three
// clients trickling a byte every 10 s pinned 1.5 GiB of a tmpfs). A body of known length
// is charged in full when its head arrives, so the verdict comes before 100-continue;
// a chunked body is charged as it grows.
//
// Threads: charged by the event loop; a charge is given back by whichever thread resets
// or destroys the connection (the loop, or a pool thread returning it quietly): atomics.
#include <atomic>
#include <cstdint>
#include <string>

#include "gthreadd/config/settings.hpp"

namespace gthreadd::worker {

class BodyBudget {
 public:
  BodyBudget(std::uint64_t memory_cap, std::uint64_t disk_cap)
      : memory_cap_(memory_cap), disk_cap_(disk_cap) {}
  [[nodiscard]] bool take_memory(std::uint64_t n) noexcept { return take(memory_, memory_cap_, n); }
  [[nodiscard]] bool take_disk(std::uint64_t n) noexcept { return take(disk_, disk_cap_, n); }
  void give_memory(std::uint64_t n) noexcept { memory_.fetch_sub(n, std::memory_order_relaxed); }
  void give_disk(std::uint64_t n) noexcept { disk_.fetch_sub(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t disk_cap() const noexcept { return disk_cap_; }
  [[nodiscard]] std::uint64_t memory_in_use() const noexcept {
    return memory_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t disk_in_use() const noexcept {
    return disk_.load(std::memory_order_relaxed);
  }

 private:
  static bool take(std::atomic<std::uint64_t>& used, std::uint64_t cap, std::uint64_t n) noexcept {
    std::uint64_t now = used.load(std::memory_order_relaxed);
    do {
      if (n > cap || now > cap - n) return false;
    } while (!used.compare_exchange_weak(now, now + n, std::memory_order_relaxed));
    return true;
  }

  const std::uint64_t memory_cap_;
  const std::uint64_t disk_cap_;
  std::atomic<std::uint64_t> memory_{0};
  std::atomic<std::uint64_t> disk_{0};
};

// One connection's share of the budget: given back when its body is cleared or the
// connection goes. Moves with the connection between the loop and a pool thread.
class BodyCharge {
 public:
  explicit BodyCharge(BodyBudget* budget = nullptr) : budget_(budget) {}
  ~BodyCharge() { release(); }
  BodyCharge(const BodyCharge&) = delete;
  BodyCharge& operator=(const BodyCharge&) = delete;

  // Sets the charge to exactly `memory` and `disk` bytes; false (and the charge unchanged)
  // when the budget lacks room for the increase.
  [[nodiscard]] bool set(std::uint64_t memory, std::uint64_t disk) noexcept;
  void release() noexcept { [[maybe_unused]] bool ok = set(0, 0); }
  [[nodiscard]] std::uint64_t memory() const noexcept { return memory_; }
  [[nodiscard]] std::uint64_t disk() const noexcept { return disk_; }

 private:
  BodyBudget* budget_;
  std::uint64_t memory_ = 0;
  std::uint64_t disk_ = 0;
};

// --body-tmp-dir, else $TMPDIR, else /var/tmp: on disk, not in RAM (gunicorn's
// --worker-tmp-dir default /dev/shm is a 64 MiB tmpfs in a default container). The
// heartbeat stays in --worker-tmp-dir.
std::string body_tmp_dir(const config::Settings& settings);

}  // namespace gthreadd::worker
