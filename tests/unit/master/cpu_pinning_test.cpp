#include "gthreadd/master/cpu_pinning.hpp"

#include <gtest/gtest.h>
#include <sched.h>

namespace gthreadd::master {
namespace {

TEST(PickCpu, NoListMeansNoPinning) { EXPECT_EQ(pick_cpu({}, {}), -1); }

TEST(PickCpu, FreshWorkersTakeTheListInOrder) {
  std::vector<int> in_use;
  const std::vector<int> cpus{2, 5, 7};
  for (int expected : {2, 5, 7, 2, 5}) {
    const int cpu = pick_cpu(cpus, in_use);
    EXPECT_EQ(cpu, expected);
    in_use.push_back(cpu);
  }
}

TEST(PickCpu, AReplacementTakesTheLeastUsedCpu) {
  // Workers on 0, 1, 0 and 1; the one on 1 died: the next goes to 1, not to 0.
  EXPECT_EQ(pick_cpu({0, 1}, {0, 1, 0}), 1);
  EXPECT_EQ(pick_cpu({0, 1}, {1}), 0);
}

TEST(PinToCpu, RefusesANumberOutOfRange) {
  EXPECT_NE(pin_to_cpu(-1), "");
  EXPECT_NE(pin_to_cpu(CPU_SETSIZE), "");
}

TEST(PinToCpu, NamesTheCpuWhenTheKernelRefuses) {
  // A CPU this process may not use (1023 is beyond any test machine) is refused by the
  // kernel; the process keeps its CPU set.
  cpu_set_t before;
  ASSERT_EQ(::sched_getaffinity(0, sizeof before, &before), 0);
  const std::string error = pin_to_cpu(1023);
  EXPECT_NE(error.find("cannot pin to CPU 1023: not a CPU"), std::string::npos) << error;
  cpu_set_t after;
  ASSERT_EQ(::sched_getaffinity(0, sizeof after, &after), 0);
  EXPECT_TRUE(CPU_EQUAL(&before, &after));
}

}  // namespace
}  // namespace gthreadd::master
