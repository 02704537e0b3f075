// Setting rows: the server socket and the workers (count, class, threads, timeouts, body spill).
#include "gthreadd/config/setting_groups.hpp"

#include <limits>
#include <string>
#include <vector>

#include "gthreadd/config/setting_builders.hpp"
#include "gthreadd/config/value_parsers.hpp"

namespace gthreadd::config {

using namespace builders;  // the row builders, in every file that appends rows

namespace {

// gunicorn's worker classes: gthread is what gthreadd is; sync is served by the same
// threaded worker (one thread by default behaves like sync). Everything else is refused.
std::string apply_worker_class(Settings& s, std::string_view value) {
  const std::string word(trim(value));
  static const std::vector<std::string> gthread = {"gthread",
                                                   "sync",
                                                   "gunicorn.workers.gthread.ThreadWorker",
                                                   "gunicorn.workers.sync.SyncWorker",
                                                   "egg:gunicorn#gthread",
                                                   "egg:gunicorn#sync"};
  if (std::find(gthread.begin(), gthread.end(), word) != gthread.end()) {
    s.worker_class = "gthread";
    return {};
  }
  return "worker class " + quoted(value) +
         " is not available: gthreadd provides only the gthread worker (sync is accepted and "
         "runs as gthread); eventlet, gevent, tornado and ASGI workers need gunicorn";
}

std::string apply_bind(Settings& s, std::string_view value) {
  std::string error;
  auto address = parse_bind_address(trim(value), error);
  if (!address) return error;
  s.bind.push_back(std::move(*address));
  return {};
}

std::string show_bind(const Settings& s) {
  std::vector<std::string> items;
  for (const auto& b : s.bind) items.push_back(b.original);
  return py_list(items);
}

}  // namespace

void append_server_settings(std::vector<SettingSpec>& t) {
  {
    SettingSpec bind = make("bind", "-b,--bind",
                            "address to listen on: HOST:PORT, [IPv6]:PORT, unix:PATH, fd://N "
                            "(repeatable; default 127.0.0.1:8000)",
                            Kind::Repeatable, apply_bind, show_bind);
    bind.clear = [](Settings& s) { s.bind.clear(); };
    t.push_back(std::move(bind));
  }
  t.push_back(integer("backlog", "--backlog", "pending connections per listener",
                      &Settings::backlog, 1, std::numeric_limits<int>::max()));
  t.push_back(boolean("reuse_port", "--reuse-port", "set SO_REUSEPORT on listeners",
                      &Settings::reuse_port));
}

void append_worker_settings(std::vector<SettingSpec>& t) {
  const int kMaxInt = std::numeric_limits<int>::max();
  t.push_back(integer("workers", "-w,--workers", "number of worker processes", &Settings::workers,
                      1, kMaxInt));
  t.push_back(make("worker_class", "-k,--worker-class",
                   "worker type: gthread (sync runs as gthread)", Kind::Value, apply_worker_class,
                   [](const Settings& s) { return s.worker_class; }));
  t.push_back(integer("threads", "--threads", "concurrent app calls per worker", &Settings::threads,
                      1, 100000));
  t.push_back(integer("worker_connections", "--worker-connections", "open connections per worker",
                      &Settings::worker_connections, 1, kMaxInt));
  t.push_back(integer("max_requests", "--max-requests",
                      "restart a worker after this many requests (0 = never)",
                      &Settings::max_requests, 0, kMaxInt));
  t.push_back(integer("max_requests_jitter", "--max-requests-jitter",
                      "random extra requests added to --max-requests",
                      &Settings::max_requests_jitter, 0, kMaxInt));
  t.push_back(integer("timeout", "-t,--timeout",
                      "seconds a silent worker lives before it is killed (0 = never)",
                      &Settings::timeout, 0, kMaxInt));
  t.push_back(integer("graceful_timeout", "--graceful-timeout",
                      "seconds workers get to finish on restart/stop", &Settings::graceful_timeout,
                      0, kMaxInt));
  t.push_back(integer("keepalive", "--keep-alive",
                      "seconds to wait for the next request on a keep-alive connection",
                      &Settings::keepalive, 0, kMaxInt));
  // Per-request time limits (issue 13): seconds, 0 = off. Not gunicorn settings (gunicorn's
  // gthread has no per-request limit, #2086); --timeout keeps gunicorn's meaning.
  t.push_back(seconds_or_off("request_timeout", "--request-timeout",
                             "seconds a request may run: then 504 (or close), its traceback "
                             "logged, worker_abort (0 = off)",
                             &Settings::request_timeout));
  t.push_back(seconds_or_off("log_slow_requests", "--log-slow-requests",
                             "log a request still running after this many seconds, with its "
                             "traceback (0 = off)",
                             &Settings::log_slow_requests));
  t.push_back(text("worker_tmp_dir", "--worker-tmp-dir", "directory for worker heartbeat files",
                   &Settings::worker_tmp_dir));
  t.push_back(text(
      "body_tmp_dir", "--body-tmp-dir",
      "directory where request bodies over 1 MiB are spilled (default: $TMPDIR, else /var/tmp)",
      &Settings::body_tmp_dir));
  t.push_back(byte_size(
      "max_body_memory", "--max-body-memory",
      "request-body bytes one worker holds in memory; more spill to --body-tmp-dir (K/M/G)",
      &Settings::max_body_memory));
  t.push_back(byte_size("max_body_disk", "--max-body-disk",
                        "request-body bytes one worker spills to disk; past it: 503, or 413 for "
                        "one larger body (K/M/G)",
                        &Settings::max_body_disk));
}

}  // namespace gthreadd::config
