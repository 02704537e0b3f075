#include "gthreadd/master/cpu_pinning.hpp"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace gthreadd::master {

int pick_cpu(const std::vector<int>& cpus, const std::vector<int>& in_use) {
  int best = -1;
  long best_count = 0;
  for (int cpu : cpus) {
    const long count = std::count(in_use.begin(), in_use.end(), cpu);
    if (best < 0 || count < best_count) {
      best = cpu;
      best_count = count;
    }
  }
  return best;
}

std::string pin_to_cpu(int cpu) {
  const std::string what = "cannot pin to CPU " + std::to_string(cpu) + ": ";
  if (cpu < 0 || cpu >= CPU_SETSIZE) return what + "no such CPU here";
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (::sched_setaffinity(0, sizeof set, &set) != 0) {
    // EINVAL: the CPU is offline, absent, or outside this process's cgroup/cpuset.
    return what +
           (errno == EINVAL ? std::string("not a CPU this process may use") : std::strerror(errno));
  }
  return {};
}

}  // namespace gthreadd::master
