#include "gthreadd/metrics/master_metrics.hpp"

#include <signal.h>
#include <sys/wait.h>

#include "gthreadd/metrics/exposition.hpp"
#include "gthreadd/metrics/recorder.hpp"

namespace gthreadd::metrics {

ExitReason classify_exit(int wait_status, const ExitFacts& facts) {
  if (facts.timed_out) return ExitReason::Timeout;
  if (facts.memory) return ExitReason::Memory;
  if (facts.boot_failed) return ExitReason::Boot;
  const bool clean = WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
  // Asked to go: a clean exit, or the SIGKILL that follows the graceful timeout.
  const bool as_asked = clean || (WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == SIGKILL);
  if (facts.max_requests && as_asked) return ExitReason::MaxRequests;
  if (facts.asked_to_stop && as_asked) return ExitReason::Other;
  return clean ? ExitReason::Other : ExitReason::Crash;
}

std::vector<ListenerRef> listener_refs(const std::vector<net::Listener>& listeners) {
  std::vector<ListenerRef> refs;
  for (const auto& l : listeners) refs.push_back({l.fd.get(), l.url()});
  return refs;
}

std::unique_ptr<MasterMetrics> MasterMetrics::start(const std::optional<config::BindAddress>& bind,
                                                    int workers, std::vector<ListenerRef> listeners,
                                                    Endpoint::Log log, std::string& error) {
  if (!bind) return nullptr;
  std::unique_ptr<MasterMetrics> m(new MasterMetrics());
  m->block_ = SharedBlock::create(SharedBlock::slots_for(workers), error);
  if (!m->block_) return nullptr;
  m->listeners_ = std::move(listeners);
  auto render = [raw = m.get()] { return render_block(*raw->block_, raw->listeners_); };
  m->log_ = log;
  m->endpoint_ = Endpoint::start(*bind, render, std::move(log), error);
  if (!m->endpoint_) return nullptr;
  return m;
}

int MasterMetrics::before_fork() {
  endpoint_->pause();  // fork only while single-threaded (metrics/endpoint.hpp)
  const int slot = block_->claim();
  if (slot < 0 && !warned_full_ && log_) {
    warned_full_ = true;
    log_(true,
         "metrics: all " + std::to_string(block_->slot_count()) +
             " worker slots are taken (4 x --workers + 64); workers started now are not counted "
             "(gthreadd_workers_without_metrics)");
  }
  return slot;
}

void MasterMetrics::in_child(int slot) noexcept {
  endpoint_->close_in_child();
  install_worker_recorder(slot >= 0 ? &block_->slot(static_cast<std::size_t>(slot)) : nullptr);
}

void MasterMetrics::forked(int slot, pid_t pid) noexcept {
  block_->assign(slot, pid);
  slots_[pid] = slot;
  block_->master().worker_starts.fetch_add(1, std::memory_order_relaxed);
  endpoint_->resume();
}

void MasterMetrics::fork_failed(int slot) {
  block_->release(slot);
  endpoint_->resume();
}

void MasterMetrics::reaped(pid_t pid, ExitReason reason) {
  const auto it = slots_.find(pid);
  if (it == slots_.end()) return;
  block_->release(it->second);
  slots_.erase(it);
  block_->master().worker_exits[static_cast<std::size_t>(reason)].fetch_add(
      1, std::memory_order_relaxed);
}

std::optional<std::uint64_t> MasterMetrics::requests_served(pid_t pid) const {
  const auto it = slots_.find(pid);
  if (it == slots_.end() || it->second < 0) return std::nullopt;
  const WorkerSlot& slot = block_->slot(static_cast<std::size_t>(it->second));
  std::uint64_t total = 0;
  for (const auto& by_method : slot.requests)
    for (const auto& counter : by_method) total += counter.load(std::memory_order_relaxed);
  return total;
}

}  // namespace gthreadd::metrics
