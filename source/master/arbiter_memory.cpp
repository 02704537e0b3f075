// --max-worker-memory (a gthreadd extension; gunicorn #3581 asked for it and was declined):
// the master reads each worker's resident set size on its tick and replaces a worker over
// the cap the way --max-requests replaces one: the successor is forked first and the old
// worker gets a graceful TERM once the successor has booted (WorkerTable::stop_retirees),
// so capacity never drops, even with -w 1. The worker is never interrupted mid-request.
#include <spdlog/spdlog.h>

#include <cstdint>

#include "gthreadd/master/arbiter.hpp"
#include "gthreadd/metrics/process_memory.hpp"

namespace gthreadd::master {

namespace {
constexpr auto kMemoryCheckPeriod = std::chrono::seconds(1);
constexpr std::int64_t kMiB = 1024 * 1024;
}  // namespace

void Arbiter::check_memory(Clock::time_point now) {
  if (settings_.max_worker_memory <= 0 || now < next_memory_check_) return;
  next_memory_check_ = now + kMemoryCheckPeriod;
  const std::int64_t cap = static_cast<std::int64_t>(settings_.max_worker_memory) * kMiB;
  std::vector<std::pair<pid_t, std::int64_t>> over;
  for (const auto& [pid, w] : table_.workers()) {
    // Booting workers are left alone (an import may peak and settle); one already on its
    // way out is not asked twice, so the line below is logged once per worker.
    if (!w.booted || w.stopping || w.retiring) continue;
    const std::int64_t rss = metrics::resident_bytes(pid);
    if (rss > cap) over.emplace_back(pid, rss);
  }
  for (const auto& [pid, rss] : over) {
    spdlog::warn(
        "Worker (pid:{}) uses {} MiB of memory (RSS), over --max-worker-memory {} MiB: "
        "replacing it gracefully",
        pid, rss / kMiB, settings_.max_worker_memory);
    memory_replaced_.insert(pid);
    table_.request_retirement(pid);
  }
}

}  // namespace gthreadd::master
