#pragma once
// The master's whole share of the metrics, so the arbiter calls one object at four points:
// start (before the first fork), before/after each fork, and on each reap.
//
//   auto m = MasterMetrics::start(settings.metrics_bind, settings.workers,
//   listener_refs(listeners), log, error); const int slot = m ? m->before_fork() : -1;       //
//   master, before fork() child:  if (m) m->in_child(slot);                  // before the worker
//   starts a thread parent: if (m) m->forked(slot, pid);               // or m->fork_failed(slot)
//   reap:   if (m) m->reaped(pid, classify_exit(status, facts));
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gthreadd/config/bind_address.hpp"
#include "gthreadd/metrics/endpoint.hpp"
#include "gthreadd/metrics/layout.hpp"
#include "gthreadd/metrics/listen_backlog.hpp"
#include "gthreadd/metrics/shared_block.hpp"
#include "gthreadd/net/listener.hpp"

namespace gthreadd::metrics {

// What the master knows about a worker it reaps, besides its wait status.
struct ExitFacts {
  bool boot_failed = false;    // exited with a boot or app-load error code
  bool timed_out = false;      // killed for a stale heartbeat (WORKER TIMEOUT)
  bool memory = false;         // replaced for its memory (--max-worker-memory)
  bool max_requests = false;   // replaced after --max-requests
  bool asked_to_stop = false;  // sent TERM by the master (reload, TTOU, stop)
};

// The reason label of gthreadd_worker_exits_total: what the master asked for first, then a
// boot failure, then "crash" for a signal or failure code nobody asked for, else "other".
ExitReason classify_exit(int wait_status, const ExitFacts& facts);

// Listeners to report the backlog of (the fds stay owned by the caller).
std::vector<ListenerRef> listener_refs(const std::vector<net::Listener>& listeners);

class MasterMetrics {
 public:
  // nullptr when `bind` is unset (metrics off), or with `error` when the block or the
  // endpoint's thread cannot be made.
  static std::unique_ptr<MasterMetrics> start(const std::optional<config::BindAddress>& bind,
                                              int workers, std::vector<ListenerRef> listeners,
                                              Endpoint::Log log, std::string& error);

  // A slot for the next worker; -1 (logged once) when all are taken. Pauses the endpoint's
  // thread until forked() or fork_failed(), so the fork happens single-threaded.
  int before_fork();
  void in_child(int slot) noexcept;
  void forked(int slot, pid_t pid) noexcept;
  void fork_failed(int slot);
  // Around any other fork of the master (USR2's re-exec).
  void pause_endpoint() noexcept { endpoint_->pause(); }
  void resume_endpoint() { endpoint_->resume(); }
  // A worker reaped: its slot is folded and freed, its exit counted. Ignores a pid that
  // forked() never saw (not a worker).
  void reaped(pid_t pid, ExitReason reason);

  // Requests a live worker has answered so far (its slot's counters); nullopt for a pid
  // without a slot. Master thread (the control socket's `show workers`).
  [[nodiscard]] std::optional<std::uint64_t> requests_served(pid_t pid) const;

  [[nodiscard]] SharedBlock& block() noexcept { return *block_; }
  [[nodiscard]] std::string url() const { return endpoint_->url(); }

 private:
  MasterMetrics() = default;

  std::unique_ptr<SharedBlock> block_;
  std::vector<ListenerRef> listeners_;
  std::map<pid_t, int> slots_;  // live workers' slots (-1: none), master thread only
  Endpoint::Log log_;
  bool warned_full_ = false;
  std::unique_ptr<Endpoint> endpoint_;  // last: stopped first, before what it reads
};

}  // namespace gthreadd::metrics
