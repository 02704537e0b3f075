#include "gthreadd/metrics/exposition.hpp"

#include <charconv>
#include <cstdint>

namespace gthreadd::metrics {
namespace {

std::string seconds(std::uint64_t ns) {
  char text[32];
  auto [end, ec] = std::to_chars(text, text + sizeof text, static_cast<double>(ns) / 1e9);
  return ec == std::errc() ? std::string(text, end) : "0";
}

class Writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  // `labels` already formatted: `method="GET",status="2xx"` (empty: none).
  void sample(std::string_view name, std::string_view labels, std::string_view value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  void sample(std::string_view name, std::string_view labels, std::int64_t value) {
    sample(name, labels, std::to_string(value));
  }
  void sample_u(std::string_view name, std::string_view labels, std::uint64_t value) {
    sample(name, labels, std::to_string(value));
  }
  void gauge(std::string_view name, std::string_view help, std::int64_t value) {
    family(name, "gauge", help);
    sample(name, {}, value);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string label(std::string_view key, std::string_view value) {
  return std::string(key) + "=\"" + escape_label(value) + "\"";
}

void write_requests(Writer& w, const Snapshot& s) {
  w.family("gthreadd_requests_total", "counter", "Requests answered, by method and status class.");
  for (std::size_t st = 0; st < kStatusClasses; ++st)
    for (std::size_t m = 0; m < kMethods; ++m)
      if (s.requests[st][m] != 0)
        w.sample_u("gthreadd_requests_total",
                   label("method", kMethodNames[m]) + "," + label("status", kStatusNames[st]),
                   s.requests[st][m]);
  w.family("gthreadd_request_duration_seconds", "histogram",
           "Time a pool thread spent on a request (GIL wait and writing included), "
           "in seconds.");
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < kBuckets; ++b) {
    cumulative += s.duration_buckets[b];
    w.sample_u("gthreadd_request_duration_seconds_bucket", label("le", kBucketLabels[b]),
               cumulative);
  }
  w.sample("gthreadd_request_duration_seconds_sum", {}, seconds(s.duration_ns));
  w.sample_u("gthreadd_request_duration_seconds_count", {}, cumulative);
}

void write_gauges(Writer& w, const Snapshot& s) {
  w.gauge("gthreadd_requests_in_flight", "Requests read and not yet answered (waiting or running).",
          s.in_flight);
  w.gauge("gthreadd_requests_waiting", "Requests waiting for a free pool thread.", s.waiting);
  w.gauge("gthreadd_busy_threads", "Pool threads running a request.", s.busy_threads);
  w.gauge("gthreadd_idle_threads", "Pool threads waiting for a request.", s.idle_threads);
  w.gauge("gthreadd_open_connections", "Open client connections.", s.open_connections);
  w.gauge("gthreadd_idle_keepalive_connections",
          "Kept-alive connections waiting for their next request.", s.idle_keepalive);
  w.family("gthreadd_gil_wait_seconds", "summary",
           "Time requests waited to take the GIL, in seconds.");
  w.sample("gthreadd_gil_wait_seconds_sum", {}, seconds(s.gil_wait_ns));
  w.sample_u("gthreadd_gil_wait_seconds_count", {}, s.gil_waits);
}

void write_workers(Writer& w, const Snapshot& s) {
  w.gauge("gthreadd_workers", "Live workers with a metrics slot.",
          static_cast<std::int64_t>(s.workers.size()));
  w.gauge("gthreadd_workers_without_metrics",
          "Live workers started when every metrics slot was taken (not counted here).",
          s.workers_without_slot);
  w.family("gthreadd_worker_resident_memory_bytes", "gauge",
           "Resident memory of each live worker, in bytes.");
  for (const auto& worker : s.workers)
    w.sample(
        "gthreadd_worker_resident_memory_bytes",
        label("slot", std::to_string(worker.slot)) + "," + label("pid", std::to_string(worker.pid)),
        worker.rss_bytes);
  w.family("gthreadd_worker_starts_total", "counter", "Workers the master started.");
  w.sample_u("gthreadd_worker_starts_total", {}, s.worker_starts);
  w.family("gthreadd_worker_exits_total", "counter", "Workers that exited, by reason.");
  for (std::size_t r = 0; r < kExitReasons; ++r)
    w.sample_u("gthreadd_worker_exits_total", label("reason", kExitReasonNames[r]),
               s.worker_exits[r]);
}

void write_listeners(Writer& w, const std::vector<ListenerSample>& listeners) {
  if (listeners.empty()) return;
  w.family("gthreadd_listen_backlog", "gauge",
           "Connections waiting in a TCP listener's accept queue.");
  for (const auto& l : listeners)
    w.sample("gthreadd_listen_backlog", label("listener", l.name), l.queued);
  w.family("gthreadd_listen_backlog_limit", "gauge",
           "The accept queue's limit (the listen backlog).");
  for (const auto& l : listeners)
    w.sample("gthreadd_listen_backlog_limit", label("listener", l.name), l.limit);
}

}  // namespace

std::string escape_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string render_prometheus(const Snapshot& snapshot,
                              const std::vector<ListenerSample>& listeners) {
  Writer w;
  write_requests(w, snapshot);
  write_gauges(w, snapshot);
  write_workers(w, snapshot);
  write_listeners(w, listeners);
  return w.take();
}

}  // namespace gthreadd::metrics
