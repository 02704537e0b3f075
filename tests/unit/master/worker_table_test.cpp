// The master's policy without processes: which worker goes when there are too many, how a
// reload completes or rolls back, --max-requests successors first, heartbeat timeouts.
#include "gthreadd/master/worker_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace gthreadd::master {
namespace {

using namespace std::chrono_literals;
using Table = WorkerTable;
using Order = WorkerTable::Order;
using Action = WorkerTable::Action;
using Reason = WorkerTable::Reason;

const Table::TimePoint t0 = Table::TimePoint{} + 1000s;

Table::Policy policy(std::chrono::seconds timeout = 30s, std::chrono::seconds graceful = 30s) {
  Table::Policy p;
  p.timeout = timeout;
  p.graceful_timeout = graceful;
  p.abort_grace = 1000ms;
  return p;
}

// Forks (on paper) what the table asks for, with the given pids, and boots them at `when`.
std::vector<pid_t> spawn(Table& table, std::vector<pid_t> pids, Table::TimePoint when = t0) {
  EXPECT_EQ(table.missing(), static_cast<int>(pids.size()));
  for (pid_t pid : pids) {
    table.add(pid, -1);
    table.beat(pid, when);
  }
  EXPECT_EQ(table.missing(), 0);
  return pids;
}

std::vector<pid_t> pids_of(const std::vector<Order>& orders, Action action) {
  std::vector<pid_t> out;
  for (const auto& o : orders)
    if (o.action == action) out.push_back(o.pid);
  return out;
}

// --- ages and the target --------------------------------------------------------------

TEST(WorkerTable, AgesCountForksAndSurviveRemoval) {
  Table table(2);
  EXPECT_EQ(table.next_age(), 1);
  EXPECT_EQ(table.add(500, -1), 1);
  EXPECT_EQ(table.add(400, -1), 2);
  ASSERT_TRUE(table.remove(500));
  EXPECT_FALSE(table.remove(500)) << "a pid that is not a worker (the upgraded master)";
  EXPECT_EQ(table.missing(), 1);
  EXPECT_EQ(table.add(300, -1), 3);
  EXPECT_EQ(table.find(300)->age, 3);
}

TEST(WorkerTable, TtouStopsTheOldestNotTheLowestPid) {
  // Pids in descending order of age: a respawned worker (young) got a low pid after a wrap.
  Table table(3);
  spawn(table, {900, 500, 100});  // ages 1, 2, 3
  table.set_target(2);
  EXPECT_EQ(table.rebalance(t0), (std::vector<Order>{{900, Action::Stop, Reason::Excess}}));
  table.set_target(1);
  EXPECT_EQ(table.rebalance(t0), (std::vector<Order>{{500, Action::Stop, Reason::Excess}}));
  EXPECT_TRUE(table.rebalance(t0).empty()) << "a stopping worker is told once";
  EXPECT_EQ(table.missing(), 0);
  EXPECT_EQ(table.serving(), 1);
}

TEST(WorkerTable, TtinAsksForOneMore) {
  Table table(1);
  spawn(table, {10});
  table.set_target(2);
  EXPECT_EQ(table.missing(), 1);
  EXPECT_TRUE(table.rebalance(t0).empty());
}

TEST(WorkerTable, StopsAreKilledAfterTheGracefulTimeout) {
  Table table(2, policy(30s, 5s));
  spawn(table, {10, 11});
  table.set_target(1);
  ASSERT_EQ(table.rebalance(t0).size(), 1u);
  EXPECT_TRUE(pids_of(table.check(t0 + 4s), Action::Kill).empty());
  EXPECT_EQ(table.next_deadline(t0 + 4s), t0 + 5s);
  EXPECT_EQ(pids_of(table.check(t0 + 5s), Action::Kill), std::vector<pid_t>{10});
}

// --- reload ---------------------------------------------------------------------------

TEST(WorkerTable, ReloadReplacesTheOldWorkersOnceEveryNewOneBooted) {
  Table table(2);
  spawn(table, {10, 11});
  table.begin_reload();
  EXPECT_TRUE(table.reloading());
  EXPECT_EQ(table.missing(), 2) << "new workers first";
  table.add(20, -1);
  table.add(21, -1);
  EXPECT_TRUE(table.rebalance(t0).empty()) << "none booted yet: the old ones serve";
  table.beat(20, t0);
  EXPECT_TRUE(table.rebalance(t0).empty()) << "one of two booted";
  table.beat(21, t0);
  auto orders = table.rebalance(t0);
  EXPECT_EQ(pids_of(orders, Action::Stop), (std::vector<pid_t>{10, 11}));
  EXPECT_TRUE(std::all_of(orders.begin(), orders.end(),
                          [](const Order& o) { return o.reason == Reason::Replaced; }));
  EXPECT_FALSE(table.reloading());
}

TEST(WorkerTable, ReloadToFewerWorkersReplacesEveryOldOne) {
  Table table(3);
  spawn(table, {10, 11, 12});
  table.set_target(1);
  table.begin_reload();
  spawn(table, {20});
  EXPECT_EQ(pids_of(table.rebalance(t0), Action::Stop), (std::vector<pid_t>{10, 11, 12}));
  EXPECT_EQ(table.serving(), 1);
}

TEST(WorkerTable, ReloadWhoseWorkerFailsToBootKeepsTheOldWorkers) {
  Table table(2);
  spawn(table, {10, 11});
  const unsigned before = table.generation();
  table.begin_reload();
  table.add(20, -1);
  table.add(21, -1);
  auto gone = table.remove(20);
  std::vector<Order> orders;
  EXPECT_EQ(table.boot_failed(*gone, t0, orders), Table::BootFailure::RolledBack);
  EXPECT_EQ(orders, (std::vector<Order>{{21, Action::Stop, Reason::RolledBack}}));
  EXPECT_FALSE(table.reloading());
  EXPECT_EQ(table.generation(), before);
  EXPECT_EQ(table.missing(), 0) << "the old workers count again";
  EXPECT_TRUE(table.rebalance(t0).empty()) << "and are not replaced";
  // The rest of the abandoned generation failing says nothing more.
  auto late = table.remove(21);
  orders.clear();
  EXPECT_EQ(table.boot_failed(*late, t0, orders), Table::BootFailure::Ignored);
  EXPECT_TRUE(orders.empty());
  // A later reload with a good app completes, under a generation of its own.
  table.begin_reload();
  EXPECT_NE(table.generation(), late->generation);
  spawn(table, {30, 31});
  EXPECT_EQ(pids_of(table.rebalance(t0), Action::Stop), (std::vector<pid_t>{10, 11}));
}

TEST(WorkerTable, RollbackAfterAPartlyBootedReloadFallsBackToItAndFinishesIt) {
  // HUP, one of the new workers boots, HUP again with a broken app: the partly booted
  // generation is the fallback, and it still replaces the first one once complete.
  Table table(2);
  spawn(table, {10, 11});
  table.begin_reload();
  table.add(20, -1);
  table.beat(20, t0);
  table.add(21, -1);
  const unsigned middle = table.generation();
  table.begin_reload();
  table.add(30, -1);
  table.add(31, -1);
  std::vector<Order> orders;
  EXPECT_EQ(table.boot_failed(*table.remove(30), t0, orders), Table::BootFailure::RolledBack);
  EXPECT_EQ(pids_of(orders, Action::Stop), std::vector<pid_t>{31});
  EXPECT_EQ(table.generation(), middle);
  EXPECT_TRUE(table.reloading()) << "the first generation is still to be replaced";
  EXPECT_TRUE(table.rebalance(t0).empty());
  table.beat(21, t0);
  EXPECT_EQ(pids_of(table.rebalance(t0), Action::Stop), (std::vector<pid_t>{10, 11}));
}

TEST(WorkerTable, BootFailureWithNothingToFallBackToHalts) {
  Table table(1);
  table.add(10, -1);
  std::vector<Order> orders;
  EXPECT_EQ(table.boot_failed(*table.remove(10), t0, orders), Table::BootFailure::Halt)
      << "at start: gunicorn's HaltServer";
  table.add(11, -1);
  table.beat(11, t0);
  table.begin_reload();
  table.add(20, -1);
  table.remove(11);  // the only old worker died meanwhile
  EXPECT_EQ(table.boot_failed(*table.remove(20), t0, orders), Table::BootFailure::Halt);
}

TEST(WorkerTable, BootFailureOfAStoppingWorkerIsIgnored) {
  Table table(2);
  spawn(table, {10, 11});
  table.set_target(1);
  ASSERT_EQ(table.rebalance(t0).size(), 1u);
  std::vector<Order> orders;
  EXPECT_EQ(table.boot_failed(*table.remove(10), t0, orders), Table::BootFailure::Ignored);
}

// --- --max-requests: successor first --------------------------------------------------

TEST(WorkerTable, RetiringWorkerStaysUntilItsSuccessorBooted) {
  Table table(1);
  spawn(table, {10});
  table.request_retirement(10);
  EXPECT_EQ(table.missing(), 1) << "a successor is forked";
  EXPECT_TRUE(table.rebalance(t0).empty())
      << "no successor yet: the retiree serves, even with -w 1";
  table.add(11, -1);
  EXPECT_TRUE(table.rebalance(t0).empty()) << "successor still booting";
  table.beat(11, t0 + 1s);
  EXPECT_EQ(table.rebalance(t0 + 1s), (std::vector<Order>{{10, Action::Stop, Reason::Retired}}));
}

TEST(WorkerTable, RetireesBeyondTheTargetGoOldestFirst) {
  // Under churn successors may never all be booted at once; retirees still do not pile up.
  Table table(2);
  spawn(table, {50, 40});  // ages 1, 2
  table.request_retirement(40);
  table.request_retirement(50);
  table.add(30, -1);  // booting successors
  table.add(20, -1);
  EXPECT_TRUE(table.rebalance(t0).empty()) << "two retirees, target two";
  table.request_retirement(30);
  EXPECT_EQ(table.rebalance(t0), (std::vector<Order>{{50, Action::Stop, Reason::Retired}}));
}

TEST(WorkerTable, RetirementIsNotRequestedOfAStoppingWorker) {
  Table table(2);
  spawn(table, {10, 11});
  table.set_target(1);
  ASSERT_EQ(table.rebalance(t0).size(), 1u);
  table.request_retirement(10);
  EXPECT_FALSE(table.find(10)->retiring);
}

// --- heartbeat timeouts ---------------------------------------------------------------

TEST(WorkerTable, SilentPastTheTimeoutIsAbortedThenKilled) {
  Table table(1, policy(5s));
  spawn(table, {10}, t0);
  EXPECT_TRUE(table.check(t0 + 5s).empty()) << "exactly --timeout is not past it";
  EXPECT_EQ(table.next_deadline(t0 + 1s), t0 + 5s) << "the master wakes when it is due";
  EXPECT_EQ(table.check(t0 + 5s + 1ms), (std::vector<Order>{{10, Action::Abort, Reason::Timeout}}));
  EXPECT_TRUE(table.check(t0 + 5s + 500ms).empty()) << "SIGABRT once; time for worker_abort";
  EXPECT_EQ(table.next_deadline(t0 + 5s + 500ms), t0 + 6s + 1ms);
  EXPECT_EQ(table.check(t0 + 6s + 1ms), (std::vector<Order>{{10, Action::Kill, Reason::Overdue}}));
  EXPECT_EQ(table.missing(), 0) << "it counts until it is reaped";
  table.remove(10);
  EXPECT_EQ(table.missing(), 1);
}

TEST(WorkerTable, BeatingWorkerIsNeverTimedOut) {
  Table table(1, policy(2s));
  spawn(table, {10}, t0);
  for (auto t = t0; t < t0 + 60s; t += 1s) {
    table.beat(10, t);
    EXPECT_TRUE(table.check(t + 500ms).empty());
  }
}

TEST(WorkerTable, BootingWorkerIsNeverTimedOut) {
  Table table(1, policy(2s));
  table.add(10, -1);  // importing a slow app: no beat yet
  EXPECT_TRUE(table.check(t0 + 1h).empty());
  EXPECT_FALSE(table.next_deadline(t0 + 1h));
}

TEST(WorkerTable, TimeoutZeroDisablesTimeouts) {
  Table table(1, policy(0s));
  spawn(table, {10}, t0);
  EXPECT_TRUE(table.check(t0 + 24h).empty());
  EXPECT_FALSE(table.next_deadline(t0));
}

TEST(WorkerTable, AbortedWorkerThatBeatsAgainIsNotKilled) {
  Table table(1, policy(5s));
  spawn(table, {10}, t0);
  ASSERT_EQ(table.check(t0 + 6s).size(), 1u);
  table.beat(10, t0 + 6500ms);
  EXPECT_TRUE(table.check(t0 + 8s).empty());
}

TEST(WorkerTable, StoppingWorkerStuckPastTheTimeoutIsAbortedSooner) {
  Table table(2, policy(5s, 30s));
  spawn(table, {10, 11}, t0);
  table.set_target(1);
  ASSERT_EQ(table.rebalance(t0).size(), 1u);
  table.beat(11, t0 + 5s);
  EXPECT_EQ(pids_of(table.check(t0 + 6s), Action::Abort), std::vector<pid_t>{10});
  EXPECT_EQ(pids_of(table.check(t0 + 7s + 1ms), Action::Kill), std::vector<pid_t>{10})
      << "not 30 s of graceful timeout for a worker that is stuck";
}

TEST(WorkerTable, NextDeadlineIsTheEarliestStillToCome) {
  Table table(2, policy(10s));
  spawn(table, {10, 11}, t0);
  table.beat(11, t0 + 3s);
  EXPECT_EQ(table.next_deadline(t0 + 4s), t0 + 10s);
  EXPECT_EQ(table.next_deadline(t0 + 11s), t0 + 13s) << "a deadline passed is not waited for";
}

// --- WINCH ----------------------------------------------------------------------------

TEST(WorkerTable, StopAllStopsEveryWorkerOnceAndForksNoMore) {
  Table table(2);
  spawn(table, {10, 11});
  table.set_target(1);
  ASSERT_EQ(table.rebalance(t0).size(), 1u);
  EXPECT_EQ(pids_of(table.stop_all(t0), Action::Stop), std::vector<pid_t>{11});
  EXPECT_EQ(table.target(), 0);
  EXPECT_EQ(table.missing(), 0);
}

TEST(WorkerTable, PinnedCpusOfLiveWorkers) {
  Table table(3);
  table.add(10, 0);
  table.add(11, -1);
  table.add(12, 1);
  auto cpus = table.pinned_cpus();
  std::sort(cpus.begin(), cpus.end());
  EXPECT_EQ(cpus, (std::vector<int>{0, 1}));
}

}  // namespace
}  // namespace gthreadd::master
