#pragma once
// Runs one request through the WSGI app (PEP 3333) on a pool thread: takes the GIL once,
// builds environ from the per-worker template, calls the app, validates what it returns,
// frames and writes the response, calls result.close(), releases the GIL. A response the
// socket will not take at once is parked, and resumed on a pool thread once the loop has
// written it (docs/architecture.md, "Parked responses"; response_job.cpp).
#include <chrono>
#include <cstdint>
#include <memory>

#include <Python.h>

#include "gthreadd/config/settings.hpp"
#include "gthreadd/http/request.hpp"
#include "gthreadd/http/request_body.hpp"
#include "gthreadd/worker/request_handler.hpp"
#include "gthreadd/wsgi/peer_info.hpp"
#include "gthreadd/wsgi/response_writer.hpp"

namespace gthreadd::wsgi {

using RequestOutcome = worker::RequestOutcome;
struct ResponseJob;
struct AccessCapture;

// The worker's RequestHandler over the embedded interpreter.
class AppRunner final : public worker::RequestHandler {
 public:
  // Loads the app named by settings.app (the interpreter must be up; called with the GIL
  // held by the worker's main thread at boot). Throws AppLoadError with a message naming
  // the module/attribute that failed.
  explicit AppRunner(const config::Settings& settings);
  ~AppRunner() override;
  AppRunner(const AppRunner&) = delete;
  AppRunner& operator=(const AppRunner&) = delete;

  // Called on a pool thread that does NOT hold the GIL. Each pool thread gets one Python
  // thread state for its whole life on first use (threading.local survives requests).
  // `request.keep_alive` is the client's wish; the outcome may say close anyway.
  RequestOutcome handle(const http::Request& request, http::RequestBody& body, const PeerInfo& peer,
                        ResponseWriter& writer) override;
  // A response parked by handle() (its stream could not write without waiting) goes on:
  // the iterator advances, or with `client_gone` the response ends (close() once).
  RequestOutcome resume(std::unique_ptr<worker::PendingResponse> pending, bool client_gone,
                        std::uint64_t unsent, ResponseWriter& writer) override;

  // The access-log line (and StatsD request metrics) of an answer the worker gave without
  // the app: a rejected request, a deadline, a full body budget. gunicorn's handle_error
  // logs one for a request it could parse; here every answered request gets one, with
  // "-" for what was never received. On the event loop thread, without the GIL.
  void log_answer_without_app(const http::Request& request, const PeerInfo& peer, int status,
                              std::uint64_t body_bytes,
                              std::chrono::microseconds duration) override;

  struct Impl;  // app_runner_impl.hpp

 private:
  RequestOutcome run(std::unique_ptr<ResponseJob> job, const http::Request& request,
                     http::RequestBody& body, const PeerInfo& peer, ResponseWriter& writer);
  // GIL held, the job done: the outcome from its stream, what the access log needs copied;
  // returns the environ kept for a Python access logger (a strong reference) or null.
  PyObject* end_response(ResponseJob& job, RequestOutcome& outcome, AccessCapture& capture);
  void log_access(const http::Request& request, const PeerInfo& peer, const RequestOutcome& outcome,
                  std::chrono::steady_clock::time_point started, AccessCapture& capture,
                  PyObject* kept_environ);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gthreadd::wsgi
