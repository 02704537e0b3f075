#pragma once
// The body of a forked worker process: Python, the app, the TBB arena, the event loop.
#include <vector>

#include "gthreadd/config/settings.hpp"
#include "gthreadd/net/listener.hpp"
#include "gthreadd/worker/heartbeat.hpp"
#include "gthreadd/wsgi/app_runner.hpp"

namespace gthreadd::worker {

// Exit codes the master understands (gunicorn's): a boot failure halts the master
// instead of respawning in a loop.
inline constexpr int kExitBootError = 3;
inline constexpr int kExitAppLoadError = 4;

// Runs in the child after fork; never returns to the master's code: the caller _exit()s
// with the result. `preloaded`: the app the master already loaded (--preload), else null.
int run_worker(const config::Settings& settings, std::vector<net::Listener>& listeners,
               const Heartbeat& heartbeat, wsgi::AppRunner* preloaded = nullptr);

}  // namespace gthreadd::worker
