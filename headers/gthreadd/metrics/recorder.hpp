#pragma once
// The worker's side of the metrics: relaxed atomic adds into its own slot of the shared
// block. No lock, no allocation, no system call; with --metrics-bind unset the slot is null
// and every call is one pointer test. A worker installs its recorder once, after fork and
// before it starts any thread (install_worker_recorder); the hot path reads recorder().
#include <chrono>
#include <cstdint>
#include <string_view>

#include "gthreadd/metrics/layout.hpp"

namespace gthreadd::metrics {

// RFC 9110 section 9.1: methods are case-sensitive, so "get" is "other".
constexpr Method classify_method(std::string_view method) noexcept {
  switch (method.size()) {
    case 3: return method == "GET" ? Method::Get : method == "PUT" ? Method::Put : Method::Other;
    case 4:
      return method == "HEAD" ? Method::Head : method == "POST" ? Method::Post : Method::Other;
    case 5: return method == "PATCH" ? Method::Patch : Method::Other;
    case 6: return method == "DELETE" ? Method::Delete : Method::Other;
    case 7: return method == "OPTIONS" ? Method::Options : Method::Other;
    default: return Method::Other;
  }
}

// 1xx..5xx -> 0..4; anything else (0: nothing was sent) -> "none".
constexpr std::size_t status_class(int status) noexcept {
  return status >= 100 && status <= 599 ? static_cast<std::size_t>(status / 100 - 1)
                                        : kStatusClasses - 1;
}

constexpr std::size_t bucket_of(std::uint64_t ns) noexcept {
  std::size_t b = 0;
  while (b < kBucketBoundsNs.size() && ns > kBucketBoundsNs[b]) ++b;  // le: bound included
  return b;
}

class Recorder {
 public:
  constexpr Recorder() noexcept = default;  // off
  explicit constexpr Recorder(WorkerSlot* slot) noexcept : slot_(slot) {}

  [[nodiscard]] bool enabled() const noexcept { return slot_ != nullptr; }

  // One answered request: counted by method and status class, its duration observed.
  void request(std::string_view method, int status,
               std::chrono::nanoseconds duration) const noexcept {
    if (!slot_) return;
    const auto ns = static_cast<std::uint64_t>(duration.count() > 0 ? duration.count() : 0);
    slot_->requests[status_class(status)][static_cast<std::size_t>(classify_method(method))]
        .fetch_add(1, kRelaxed);
    slot_->duration_buckets[bucket_of(ns)].fetch_add(1, kRelaxed);
    slot_->duration_ns.fetch_add(ns, kRelaxed);
  }
  // How long a request's thread waited to take the GIL.
  void gil_wait(std::chrono::nanoseconds waited) const noexcept {
    if (!slot_) return;
    slot_->gil_wait_ns.fetch_add(
        static_cast<std::uint64_t>(waited.count() > 0 ? waited.count() : 0), kRelaxed);
    slot_->gil_waits.fetch_add(1, kRelaxed);
  }
  void add_in_flight(std::int64_t delta) const noexcept { add(&WorkerSlot::in_flight, delta); }
  void add_waiting(std::int64_t delta) const noexcept { add(&WorkerSlot::waiting, delta); }
  void add_busy_threads(std::int64_t delta) const noexcept {
    add(&WorkerSlot::busy_threads, delta);
  }
  void add_open_connections(std::int64_t delta) const noexcept {
    add(&WorkerSlot::open_connections, delta);
  }
  void add_idle_keepalive(std::int64_t delta) const noexcept {
    add(&WorkerSlot::idle_keepalive, delta);
  }
  void set_threads(std::int64_t threads) const noexcept {
    if (slot_) slot_->threads.store(threads, kRelaxed);
  }
  // The event loop's count, stored at its housekeeping tick (a sampled gauge: the loop
  // knows both numbers, and counting every state change would cost every connection).
  void set_connections(std::int64_t open, std::int64_t idle_keepalive) const noexcept {
    if (!slot_) return;
    slot_->open_connections.store(open, kRelaxed);
    slot_->idle_keepalive.store(idle_keepalive, kRelaxed);
  }

 private:
  static constexpr auto kRelaxed = std::memory_order_relaxed;
  void add(Gauge WorkerSlot::*gauge, std::int64_t delta) const noexcept {
    if (slot_) (slot_->*gauge).fetch_add(delta, kRelaxed);
  }

  WorkerSlot* slot_ = nullptr;
};

namespace detail {
inline Recorder g_recorder;  // written once per process, before any worker thread starts
}

// The worker's recorder (off in the master and when metrics are off).
inline const Recorder& recorder() noexcept { return detail::g_recorder; }
// In the worker, right after fork, before any thread: `slot` may be null (no metrics).
inline void install_worker_recorder(WorkerSlot* slot) noexcept {
  detail::g_recorder = Recorder(slot);
}

}  // namespace gthreadd::metrics
