#pragma once
// The master's table of worker processes and the policy that decides their fate: how many
// to fork, which one to stop when there are too many, when a reload is done or rolled back,
// when a recycled worker may go, and when a silent one is timed out. Pure: it forks nothing,
// kills nothing and reads no clock; the Arbiter passes the time in, carries out the Orders
// it returns, and tells it what it saw (heartbeats, exits). So the policy is unit-tested
// without processes (tests/unit/master/worker_table_test.cpp).
//
// Ages follow gunicorn's worker.age: a counter of workers forked by this master. Where
// gunicorn's manage_workers has too many workers it sorts them by age and stops from the
// front, the oldest first; the table does the same (a pid says nothing about age once pids
// wrap or a young worker replaced a crashed one).
//
// Thread: the master has one thread; nothing here is shared.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <vector>

namespace gthreadd::master {

// What the settings decide (--timeout, --graceful-timeout); outside the class so it can be a
// default argument of the constructor.
struct WorkerPolicy {
  std::chrono::seconds timeout{30};           // --timeout; 0: never timed out
  std::chrono::seconds graceful_timeout{30};  // --graceful-timeout: TERM, then KILL
  // After SIGABRT, how long a silent worker has before SIGKILL. gunicorn sends SIGKILL at
  // its next murder_workers pass, within a second.
  std::chrono::milliseconds abort_grace{1000};
};

class WorkerTable {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;
  using Policy = WorkerPolicy;

  struct Worker {
    pid_t pid = 0;
    int age = 0;              // gunicorn's worker.age: 1 for the first worker forked
    unsigned generation = 0;  // bumped by every reload (HUP)
    int cpu = -1;             // --cpu-affinity: its CPU; -1 = not pinned
    bool booted = false;      // its loop has beaten: the app is imported and it serves
    bool retiring = false;    // asked for a successor (--max-requests); not counted
    bool stopping = false;    // TERM sent; it is gone for the policy
    bool aborted = false;     // SIGABRT sent for a stale heartbeat
    TimePoint last_beat{};    // when booted: the time its heartbeat says it last made progress
    TimePoint kill_at{};      // when stopping or aborted: SIGKILL from then on
  };

  enum class Action { Stop, Abort, Kill };  // SIGTERM, SIGABRT, SIGKILL
  enum class Reason {
    Excess,      // more workers than the target (TTOU, a smaller reload)
    Replaced,    // of an older generation, once the reload's workers booted
    Retired,     // --max-requests, once its successor booted
    RolledBack,  // of a reload whose worker failed to boot
    Timeout,     // heartbeat silent for longer than --timeout
    Overdue,     // still alive after its graceful timeout, or after SIGABRT
    AllStopped,  // WINCH: every worker stops, the master stays
  };
  struct Order {
    pid_t pid = 0;
    Action action = Action::Stop;
    Reason reason = Reason::Excess;
    friend bool operator==(const Order&, const Order&) = default;
  };

  // What a worker that failed to boot (exit 3 or 4) means.
  enum class BootFailure {
    Ignored,     // it had been told to stop: says nothing
    RolledBack,  // a reload's worker: the previous workers stay, the reload is abandoned
    Halt,        // nothing to fall back to: the master stops (gunicorn's HaltServer)
  };

  explicit WorkerTable(int target, Policy policy = {});

  void set_policy(const Policy& policy) { policy_ = policy; }
  [[nodiscard]] const Policy& policy() const noexcept { return policy_; }
  [[nodiscard]] int target() const noexcept { return target_; }
  void set_target(int target);
  [[nodiscard]] unsigned generation() const noexcept { return generation_; }
  [[nodiscard]] bool reloading() const noexcept { return reloading_; }

  // --- what the Arbiter saw ---------------------------------------------------------
  // A worker forked for the current generation; returns its age.
  int add(pid_t pid, int cpu);
  // The next worker's age, for the pre_fork hook that runs before add().
  [[nodiscard]] int next_age() const noexcept { return spawned_ + 1; }
  // Reaped: the record leaves the table (nullopt for a pid that is not a worker).
  std::optional<Worker> remove(pid_t pid);
  // Its heartbeat says it made progress at `when` (it has booted).
  void beat(pid_t pid, TimePoint when);
  void request_retirement(pid_t pid);
  // HUP: a new generation starts; the current workers are replaced once it has booted.
  void begin_reload();

  // --- the policy -------------------------------------------------------------------
  // How many workers to fork now.
  [[nodiscard]] int missing() const;
  // Stops what is in excess: oldest first beyond the target, retirees whose successors
  // booted, and the previous generation once a reload's workers booted.
  std::vector<Order> rebalance(TimePoint now);
  // Heartbeat timeouts and overdue stops at `now`.
  std::vector<Order> check(TimePoint now);
  // WINCH: the target drops to 0 and every worker stops.
  std::vector<Order> stop_all(TimePoint now);
  // `gone` (already removed) exited with a boot failure; orders for the rollback go to `out`.
  BootFailure boot_failed(const Worker& gone, TimePoint now, std::vector<Order>& out);
  // The next moment check() may have something to do, if any: the Arbiter wakes then,
  // so a timeout fires when it is due, not at the next tick.
  [[nodiscard]] std::optional<TimePoint> next_deadline(TimePoint now) const;

  // --- reading ----------------------------------------------------------------------
  [[nodiscard]] const Worker* find(pid_t pid) const;
  [[nodiscard]] const std::map<pid_t, Worker>& workers() const noexcept { return workers_; }
  [[nodiscard]] std::size_t size() const noexcept { return workers_.size(); }
  [[nodiscard]] bool empty() const noexcept { return workers_.empty(); }
  [[nodiscard]] std::vector<int> pinned_cpus() const;
  // Current generation, not stopping and not retiring: what counts toward the target.
  [[nodiscard]] int serving() const;

 private:
  Worker& at(pid_t pid);
  // Current-generation workers that are not stopping and satisfy `pred`, oldest first.
  template <typename Pred>
  std::vector<Worker*> current_by_age(Pred pred);
  [[nodiscard]] int booted_current(bool count_retiring) const;
  void stop(Worker& w, Reason reason, TimePoint now, std::vector<Order>& out);
  void stop_excess(TimePoint now, std::vector<Order>& out);
  void stop_retirees(TimePoint now, std::vector<Order>& out);
  void finish_reload(TimePoint now, std::vector<Order>& out);
  [[nodiscard]] bool timed_out(const Worker& w, TimePoint now) const;

  Policy policy_;
  std::map<pid_t, Worker> workers_;
  int target_;
  int spawned_ = 0;
  unsigned generation_ = 0;
  unsigned newest_generation_ = 0;  // never reused, even after a rollback
  bool reloading_ = false;
};

}  // namespace gthreadd::master
