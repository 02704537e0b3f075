#include "gthreadd/master/worker_table.hpp"

#include <algorithm>

#include "gthreadd/core/assert.hpp"

namespace gthreadd::master {

WorkerTable::WorkerTable(int target, Policy policy) : policy_(policy), target_(target) {
  GTHREADD_ASSERT(target >= 0, "a negative worker target");
}

void WorkerTable::set_target(int target) {
  GTHREADD_ASSERT(target >= 0, "a negative worker target");
  target_ = target;
}

int WorkerTable::add(pid_t pid, int cpu) {
  GTHREADD_ASSERT(pid > 0 && !workers_.contains(pid), "a pid forked twice");
  Worker w;
  w.pid = pid;
  w.age = ++spawned_;
  w.generation = generation_;
  w.cpu = cpu;
  workers_.emplace(pid, w);
  return w.age;
}

std::optional<WorkerTable::Worker> WorkerTable::remove(pid_t pid) {
  auto it = workers_.find(pid);
  if (it == workers_.end()) return std::nullopt;
  Worker gone = it->second;
  workers_.erase(it);
  return gone;
}

WorkerTable::Worker& WorkerTable::at(pid_t pid) {
  auto it = workers_.find(pid);
  GTHREADD_ASSERT(it != workers_.end(), "not a worker of this table");
  return it->second;
}

const WorkerTable::Worker* WorkerTable::find(pid_t pid) const {
  auto it = workers_.find(pid);
  return it == workers_.end() ? nullptr : &it->second;
}

void WorkerTable::beat(pid_t pid, TimePoint when) {
  Worker& w = at(pid);
  w.booted = true;
  w.last_beat = when;
}

void WorkerTable::request_retirement(pid_t pid) {
  Worker& w = at(pid);
  if (!w.stopping) w.retiring = true;
}

void WorkerTable::begin_reload() {
  // A fresh number even after a rollback: a worker of the abandoned generation that exits
  // late must never be taken for one of the next reload.
  generation_ = ++newest_generation_;
  reloading_ = true;
}

int WorkerTable::serving() const {
  int n = 0;
  for (const auto& [pid, w] : workers_)
    if (w.generation == generation_ && !w.stopping && !w.retiring) ++n;
  return n;
}

int WorkerTable::missing() const { return std::max(0, target_ - serving()); }

int WorkerTable::booted_current(bool count_retiring) const {
  int n = 0;
  for (const auto& [pid, w] : workers_)
    if (w.generation == generation_ && !w.stopping && w.booted && (count_retiring || !w.retiring))
      ++n;
  return n;
}

std::vector<int> WorkerTable::pinned_cpus() const {
  std::vector<int> cpus;
  for (const auto& [pid, w] : workers_)
    if (w.cpu >= 0) cpus.push_back(w.cpu);
  return cpus;
}

template <typename Pred>
std::vector<WorkerTable::Worker*> WorkerTable::current_by_age(Pred pred) {
  std::vector<Worker*> out;
  for (auto& [pid, w] : workers_)
    if (w.generation == generation_ && !w.stopping && pred(w)) out.push_back(&w);
  std::sort(out.begin(), out.end(),
            [](const Worker* a, const Worker* b) { return a->age < b->age; });
  return out;
}

void WorkerTable::stop(Worker& w, Reason reason, TimePoint now, std::vector<Order>& out) {
  GTHREADD_ASSERT(!w.stopping, "a worker is told to stop once");
  w.stopping = true;
  w.kill_at = now + policy_.graceful_timeout;
  out.push_back({w.pid, Action::Stop, reason});
}

std::vector<WorkerTable::Order> WorkerTable::rebalance(TimePoint now) {
  std::vector<Order> out;
  stop_excess(now, out);
  stop_retirees(now, out);
  finish_reload(now, out);
  return out;
}

void WorkerTable::stop_excess(TimePoint now, std::vector<Order>& out) {
  // TTOU or a reload to fewer workers: the oldest go, as gunicorn's manage_workers does.
  auto counted = current_by_age([](const Worker& w) { return !w.retiring; });
  for (std::size_t i = 0; counted.size() - i > static_cast<std::size_t>(target_); ++i)
    stop(*counted[i], Reason::Excess, now, out);
}

void WorkerTable::stop_retirees(TimePoint now, std::vector<Order>& out) {
  // A worker that reached --max-requests goes once enough successors have booted (counting
  // the booted ones, not "every new worker booted": with a low --max-requests some worker
  // is always booting, and retirees would pile up). Never more retirees than the target
  // stay alive either; the oldest go first.
  std::vector<Worker*> retirees;
  for (auto& [pid, w] : workers_)
    if (w.retiring && !w.stopping) retirees.push_back(&w);
  std::sort(retirees.begin(), retirees.end(),
            [](const Worker* a, const Worker* b) { return a->age < b->age; });
  const bool successors_up = booted_current(false) >= target_;
  const auto cap = static_cast<std::size_t>(std::max(1, target_));
  for (std::size_t i = 0; i < retirees.size(); ++i) {
    if (!successors_up && retirees.size() - i <= cap) break;
    stop(*retirees[i], Reason::Retired, now, out);
  }
}

void WorkerTable::finish_reload(TimePoint now, std::vector<Order>& out) {
  // New workers first; the old ones go only once enough new ones have booted, so capacity
  // never drops and a broken app on HUP leaves the old workers serving. A new worker
  // already asking for its successor (--max-requests) is serving too: under churn some are
  // always retiring, and not counting them stalled the reload for good.
  if (!reloading_ || booted_current(true) < target_) return;
  for (auto& [pid, w] : workers_)
    if (w.generation != generation_ && !w.stopping) stop(w, Reason::Replaced, now, out);
  reloading_ = false;
}

std::vector<WorkerTable::Order> WorkerTable::stop_all(TimePoint now) {
  target_ = 0;
  reloading_ = false;
  std::vector<Order> out;
  for (auto& [pid, w] : workers_)
    if (!w.stopping) stop(w, Reason::AllStopped, now, out);
  return out;
}

WorkerTable::BootFailure WorkerTable::boot_failed(const Worker& gone, TimePoint now,
                                                  std::vector<Order>& out) {
  GTHREADD_ASSERT(!workers_.contains(gone.pid), "a worker still in the table cannot have exited");
  // One told to stop (the rest of a failed generation), or one of a generation already being
  // replaced, says nothing about the app the current generation runs.
  if (gone.stopping || gone.generation != generation_) return BootFailure::Ignored;
  if (!reloading_) return BootFailure::Halt;
  // HUP with a broken app: fall back to the newest generation still running before it.
  std::optional<unsigned> fallback;
  for (const auto& [pid, w] : workers_)
    if (!w.stopping && w.generation < generation_ && (!fallback || w.generation > *fallback))
      fallback = w.generation;
  if (!fallback) return BootFailure::Halt;
  generation_ = *fallback;
  for (auto& [pid, w] : workers_)
    if (!w.stopping && w.generation > generation_) stop(w, Reason::RolledBack, now, out);
  // A reload interrupted by the failed one still has older workers to replace.
  reloading_ = std::any_of(workers_.begin(), workers_.end(), [&](const auto& entry) {
    return !entry.second.stopping && entry.second.generation != generation_;
  });
  return BootFailure::RolledBack;
}

bool WorkerTable::timed_out(const Worker& w, TimePoint now) const {
  // A worker still importing its app has not beaten yet and is never timed out.
  return policy_.timeout.count() > 0 && w.booted && now - w.last_beat > policy_.timeout;
}

std::vector<WorkerTable::Order> WorkerTable::check(TimePoint now) {
  std::vector<Order> out;
  for (auto& [pid, w] : workers_) {
    const bool due = (w.stopping || w.aborted) && now >= w.kill_at;
    if (due && (w.stopping || timed_out(w, now))) {
      out.push_back({pid, Action::Kill, Reason::Overdue});
      continue;
    }
    if (w.aborted || !timed_out(w, now)) continue;
    // gunicorn's murder_workers: SIGABRT first (the worker_abort hook may say where it
    // hung), SIGKILL if it is still silent after that.
    w.aborted = true;
    const TimePoint grace_end = now + policy_.abort_grace;
    w.kill_at = w.stopping ? std::min(w.kill_at, grace_end) : grace_end;
    out.push_back({pid, Action::Abort, Reason::Timeout});
  }
  return out;
}

std::optional<WorkerTable::TimePoint> WorkerTable::next_deadline(TimePoint now) const {
  std::optional<TimePoint> next;
  auto consider = [&](TimePoint t) {
    if (t > now && (!next || t < *next)) next = t;
  };
  for (const auto& [pid, w] : workers_) {
    if (w.stopping || w.aborted) consider(w.kill_at);
    if (policy_.timeout.count() > 0 && w.booted && !w.aborted)
      consider(w.last_beat + policy_.timeout);
  }
  return next;
}

}  // namespace gthreadd::master
