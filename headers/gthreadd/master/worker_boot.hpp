#pragma once
// The child's side of a fork: what turns a copy of the master into a worker (process title,
// --cpu-affinity, the worker's identity and post_fork hook, the heartbeat made writable,
// --user/--group, the parent-death signal), then the worker's run. Never returns: the child
// leaves with _exit and the worker's exit code (3 when it cannot boot).
//
// Thread: the forked child's only thread, before the worker starts any other.
#include <sys/types.h>

#include <vector>

#include "gthreadd/config/settings.hpp"
#include "gthreadd/net/listener.hpp"
#include "gthreadd/worker/heartbeat.hpp"
#include "gthreadd/wsgi/app_runner.hpp"

namespace gthreadd::master {

struct WorkerBoot {
  const config::Settings& settings;
  std::vector<net::Listener>& listeners;
  const worker::Heartbeat& heartbeat;
  wsgi::AppRunner* preloaded = nullptr;  // --preload: the app the master imported
  pid_t master = 0;                      // the master's pid, read before fork
  int age = 0;                           // gunicorn's worker.age
  int cpu = -1;                          // --cpu-affinity: the CPU to pin to; -1 = none
  int num_workers = 0;                   // what the `server` proxy of the hooks shows
};

// Called in the child right after fork, once the master's own descriptors are closed.
[[noreturn]] void boot_worker(const WorkerBoot& boot);

}  // namespace gthreadd::master
