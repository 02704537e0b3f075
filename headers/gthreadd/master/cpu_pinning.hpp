#pragma once
// --cpu-affinity: each worker process runs on one CPU of the list. A worker's pool threads
// then hand the GIL over on one core instead of bouncing it (and the interpreter's hot
// cache lines) between cores (issue 4, "keep a worker's Python threads on one core").
#include <string>
#include <vector>

namespace gthreadd::master {

// The CPU of `cpus` that the fewest live workers use (`in_use`: one entry per live worker
// that is pinned), the earliest in the list on a tie; -1 when `cpus` is empty. Worker N of
// a fresh start gets cpus[N % size], and a respawned worker takes the slot its
// predecessor left.
int pick_cpu(const std::vector<int>& cpus, const std::vector<int>& in_use);

// Pins the calling process (and the threads it creates afterwards) to `cpu`. Returns an
// error message, empty on success.
std::string pin_to_cpu(int cpu);

}  // namespace gthreadd::master
