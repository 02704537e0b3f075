#pragma once
// The Prometheus text exposition format, version 0.0.4 (prometheus.io/docs/instrumenting/
// exposition_formats): "# HELP" and "# TYPE" before each family, counters named *_total,
// the histogram as cumulative _bucket{le=...} series with _sum and _count.
#include <string>
#include <string_view>
#include <vector>

#include "gthreadd/metrics/listen_backlog.hpp"
#include "gthreadd/metrics/shared_block.hpp"

namespace gthreadd::metrics {

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

struct ListenerSample {
  std::string name;  // label value: the listener's URL
  std::int64_t queued = 0;
  std::int64_t limit = 0;
};

std::string render_prometheus(const Snapshot& snapshot,
                              const std::vector<ListenerSample>& listeners);

// What the endpoint serves: a snapshot of `block` and the backlog of each TCP listener.
std::string render_block(SharedBlock& block, const std::vector<ListenerRef>& listeners);

// The backlog summed over the TCP listeners, as gunicorn's arbiter sums sock.get_backlog()
// for the StatsD gauge gunicorn.backlog (--enable-backlog-metric).
std::int64_t total_backlog(const std::vector<ListenerRef>& listeners);

// A label value escaped as the format asks: backslash, double quote and line feed.
std::string escape_label(std::string_view value);

}  // namespace gthreadd::metrics
