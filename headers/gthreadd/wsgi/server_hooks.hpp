#pragma once
// gunicorn's server hooks (on_starting, pre_fork, post_fork, pre_request, ...) defined in a
// gunicorn.conf.py, called with gunicorn's signatures and small proxy objects for `server`,
// `worker`, `req` and `resp`. A hook that raises is logged with its traceback; the server
// carries on. Without a .py config no hook is defined and every call site is one
// `hook_defined` load: no Python, no GIL.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include <pybind11/pybind11.h>

#include "gthreadd/config/settings.hpp"
#include "gthreadd/http/request.hpp"
#include "gthreadd/wsgi/response_head.hpp"

namespace gthreadd::wsgi {

enum class Hook : int {
  OnStarting,
  OnReload,
  WhenReady,
  PreFork,
  PostFork,
  PostWorkerInit,
  WorkerInt,
  WorkerAbort,
  PreExec,
  PreRequest,
  PostRequest,
  ChildExit,
  WorkerExit,
  NworkersChanged,
  OnExit,
};
inline constexpr int kHookCount = 15;

std::string_view hook_name(Hook hook) noexcept;
std::optional<Hook> hook_by_name(std::string_view name) noexcept;

// Cheap and GIL-free: whether the config file defined this hook.
bool hook_defined(Hook hook) noexcept;

// Registers (or, with a null object, clears) a hook; needs the GIL. Used by the .py loader.
void set_hook(Hook hook, pybind11::object callable);
void clear_hooks();

// What the `server` proxy shows (gunicorn's Arbiter attributes hooks commonly use).
struct ServerView {
  const config::Settings* settings = nullptr;
  int num_workers = 0;
};

// The master and worker call these from their main thread; they take the GIL themselves.
// on_starting, on_reload, when_ready, pre_exec, on_exit:
void call_server_hook(Hook hook, const ServerView& server);
// pre_fork, post_fork, child_exit, worker_exit (server, worker); `age`: spawn counter.
void call_server_worker_hook(Hook hook, const ServerView& server, pid_t worker_pid, int age);
// post_worker_init, worker_int, worker_abort (worker), in the worker process.
void call_worker_hook(Hook hook);
// nworkers_changed(server, new_value, old_value)
void call_nworkers_changed(const ServerView& server, int new_value, int old_value);

// The worker process remembers who it is, for the `worker` proxy (pid, age, cfg, log).
void set_worker_identity(const config::Settings& settings, int age);

// Request hooks: called by AppRunner with the GIL held, only when hook_defined() says so.
// pre_request(worker, req): returns the `req` proxy (kept for post_request). Header fields
// the hook appended to req.headers reach the environ through apply_added_headers.
pybind11::object call_pre_request(const http::Request& request);
void apply_added_headers(const pybind11::object& req, std::size_t original_count,
                         pybind11::dict& environ);
// post_request(worker, req, environ, resp); `req` may be None (no pre_request hook).
void call_post_request(pybind11::object req, const http::Request& request,
                       const pybind11::object& environ, const ResponseHead& head,
                       std::uint64_t sent);

}  // namespace gthreadd::wsgi
