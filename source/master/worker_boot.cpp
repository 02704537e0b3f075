#include "gthreadd/master/worker_boot.hpp"

#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <exception>

#include <spdlog/spdlog.h>

#include "gthreadd/master/cpu_pinning.hpp"
#include "gthreadd/master/process_setup.hpp"
#include "gthreadd/worker/worker_process.hpp"
#include "gthreadd/wsgi/server_hooks.hpp"

namespace gthreadd::master {
namespace {

[[noreturn]] void leave(int code) {
  spdlog::default_logger()->flush();
  ::_exit(code);
}

void pin(int cpu) {
  // Before the worker starts any thread: the pool and loop threads inherit it.
  if (cpu < 0) return;
  if (auto error = pin_to_cpu(cpu); error.empty())
    spdlog::info("Worker {} pinned to CPU {}", ::getpid(), cpu);
  else spdlog::warn("{}; the worker runs unpinned", error);
}

}  // namespace

void boot_worker(const WorkerBoot& boot) {
  // The master runs no TBB and no async logger, and --metrics-bind's endpoint thread is
  // paused around every fork (metrics/endpoint.hpp): the fork happened single-threaded.
  spdlog::info("Booting worker with pid: {}", ::getpid());
  ProcessTitle::set("gthreadd: worker [" + process_label(boot.settings) + "]");
  pin(boot.cpu);
  wsgi::set_worker_identity(boot.settings, boot.age);
  wsgi::call_server_worker_hook(wsgi::Hook::PostFork, {&boot.settings, boot.num_workers},
                                ::getpid(), boot.age);
  try {
    // The heartbeat file is unlinked, so only this process can reach it; making it
    // writable lets the worker touch it after dropping to --user.
    ::fchmod(boot.heartbeat.fd(), 0666);
    drop_privileges(boot.settings);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    leave(worker::kExitBootError);
  }
  // A master killed with SIGKILL must not leave workers serving (and holding the port)
  // forever: the kernel sends TERM, a graceful stop, when the master dies. After the
  // privilege drop, which clears the setting; TERM stays blocked until the worker's
  // signalfd reads it. The master may have died before prctl: then nothing would come.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != boot.master) {
    spdlog::warn("Worker {}: the master (pid {}) is gone; exiting", ::getpid(), boot.master);
    leave(0);
  }
  // With --preload the child holds the GIL it inherited; run_worker releases it once the
  // app is ready (releasing it here too aborted every preloaded worker at boot).
  leave(worker::run_worker(boot.settings, boot.listeners, boot.heartbeat, boot.preloaded));
}

}  // namespace gthreadd::master
