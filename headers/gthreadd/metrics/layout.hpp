#pragma once
// The fixed layout of the metrics block the master maps (MAP_SHARED) before it forks any
// worker: one WorkerSlot per worker, the master's own counters and the "retired" sums of
// workers already reaped. Every field is a lock-free 64-bit atomic, so a worker records
// with one relaxed add into its own slot and the master reads all slots without a lock
// shared with the workers (a lock-free atomic is address-free, hence valid across
// processes mapping the same page; [atomics.lockfree]).
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gthreadd::metrics {

using Counter = std::atomic<std::uint64_t>;  // only grows; folded into "retired" on reap
using Gauge = std::atomic<std::int64_t>;     // goes up and down; zeroed on reap
static_assert(Counter::is_always_lock_free,
              "metrics counters must be lock-free to live in shared memory");
static_assert(Gauge::is_always_lock_free,
              "metrics gauges must be lock-free to live in shared memory");

// gthreadd_requests_total{method=...}: the methods RFC 9110 section 9.3 defines and PATCH
// (RFC 5789) by name, everything else (CONNECT, TRACE, WebDAV, extension methods) as "other",
// so a client cannot grow the label set.
enum class Method : std::uint8_t { Get, Head, Post, Put, Delete, Patch, Options, Other };
inline constexpr std::size_t kMethods = 8;
inline constexpr std::array<std::string_view, kMethods> kMethodNames = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"};

// status="1xx".."5xx", and "none" for a request that got no status line at all (the client
// went away before the head was sent).
inline constexpr std::size_t kStatusClasses = 6;
inline constexpr std::array<std::string_view, kStatusClasses> kStatusNames = {"1xx", "2xx", "3xx",
                                                                              "4xx", "5xx", "none"};

// Prometheus' default histogram buckets (client_golang DefBuckets), in seconds; the last
// bucket is +Inf. Stored per bucket (not cumulative: one add per request), made cumulative
// by the exposition writer.
inline constexpr std::size_t kBuckets = 12;
inline constexpr std::array<std::uint64_t, kBuckets - 1> kBucketBoundsNs = {
    5'000'000,   10'000'000,    25'000'000,    50'000'000,    100'000'000,   250'000'000,
    500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};
inline constexpr std::array<std::string_view, kBuckets> kBucketLabels = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"};

// Why a worker exited, as the master tells from its exit status and what it asked of it.
enum class ExitReason : std::uint8_t { Boot, Timeout, MaxRequests, Memory, Crash, Other };
inline constexpr std::size_t kExitReasons = 6;
inline constexpr std::array<std::string_view, kExitReasons> kExitReasonNames = {
    "boot", "timeout", "max_requests", "memory", "crash", "other"};

// What a worker writes, and only its own slot. alignas(64): two workers never share a
// cache line. `pid` is written by the master only (0: the slot is free).
struct alignas(64) WorkerSlot {
  Gauge pid{0};
  // Counters: survive the worker (SharedBlock::release folds them into the retired sums).
  std::array<std::array<Counter, kMethods>, kStatusClasses> requests{};
  std::array<Counter, kBuckets> duration_buckets{};  // observations per bucket, not cumulative
  Counter duration_ns{0};                            // sum of request durations
  Counter gil_wait_ns{0};                            // time requests waited for the GIL
  Counter gil_waits{0};
  // Gauges: what the live worker is doing now; zeroed when it is reaped.
  Gauge in_flight{0};     // requests read and not yet answered (waiting + running)
  Gauge waiting{0};       // requests waiting for a pool thread
  Gauge busy_threads{0};  // pool threads running a request
  Gauge threads{0};       // pool size (idle threads = threads - busy_threads)
  Gauge open_connections{0};
  Gauge idle_keepalive{0};  // kept-alive connections waiting for their next request
  Gauge rss_bytes{0};       // resident memory, sampled by the master at each scrape
};

// Written by the master only; read by its endpoint thread.
struct alignas(64) MasterCounters {
  Counter worker_starts{0};
  std::array<Counter, kExitReasons> worker_exits{};
  Gauge workers_without_slot{0};  // live workers started when every slot was taken
};

}  // namespace gthreadd::metrics
