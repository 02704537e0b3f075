#include "gthreadd/wsgi/app_runner.hpp"

#include "gthreadd/wsgi/python_compat.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <span>
#include <string>

#include "gthreadd/log/request_log.hpp"
#include "gthreadd/metrics/recorder.hpp"
#include "gthreadd/wsgi/access_capture.hpp"
#include "gthreadd/wsgi/app_loader.hpp"
#include "gthreadd/wsgi/app_runner_impl.hpp"
#include "gthreadd/wsgi/error_stream.hpp"
#include "gthreadd/wsgi/interpreter.hpp"
#include "gthreadd/wsgi/python_module.hpp"
#include "gthreadd/wsgi/request_board.hpp"
#include "gthreadd/wsgi/server_hooks.hpp"
#include "gthreadd/wsgi/thread_state.hpp"

namespace py = pybind11;

namespace gthreadd::wsgi {

AppRunner::AppRunner(const config::Settings& settings) : impl_(std::make_unique<Impl>()) {
  try {
    py::module_ module = python_module();
    impl_->app = load_app(settings.app);
    impl_->file_wrapper_type = module.attr("FileWrapper");
    impl_->close_name = py::reinterpret_steal<py::object>(PyUnicode_InternFromString("close"));
    // give_back() runs in a destructor: its push_back must never reallocate.
    impl_->spare_inputs.reserve(Impl::kMaxSpares);
    impl_->spare_start_responses.reserve(Impl::kMaxSpares);
    impl_->environ.emplace(settings, module.attr("ErrorStream")(), impl_->file_wrapper_type);
    impl_->sendfile = settings.sendfile;
    impl_->pre_request = hook_defined(Hook::PreRequest);
    impl_->post_request = hook_defined(Hook::PostRequest);
    impl_->request_log.emplace(settings);
    if (!impl_->request_log->enabled()) impl_->request_log.reset();
  } catch (const py::error_already_set& e) {
    throw AppLoadError(std::string("cannot set up the WSGI bridge: ") + e.what());
  }
}

AppRunner::~AppRunner() {
  // Python references die with the GIL held, whichever thread destroys the runner.
  const PyGILState_STATE gil = PyGILState_Ensure();
  impl_.reset();
  PyGILState_Release(gil);
}

RequestOutcome AppRunner::handle(const http::Request& request, http::RequestBody& body,
                                 const PeerInfo& peer, ResponseWriter& writer) {
  return run(nullptr, request, body, peer, writer);
}

RequestOutcome AppRunner::resume(std::unique_ptr<worker::PendingResponse> pending, bool client_gone,
                                 std::uint64_t unsent, ResponseWriter& writer) {
  std::unique_ptr<ResponseJob> job(static_cast<ResponseJob*>(pending.release()));
  if (client_gone) job->stream.client_gone(unsent);  // this thread owns the job: no GIL needed
  const http::Request& request = job->request;
  http::RequestBody& body = job->body;
  const PeerInfo& peer = job->peer;
  return run(std::move(job), request, body, peer, writer);
}

RequestOutcome AppRunner::run(std::unique_ptr<ResponseJob> job, const http::Request& request,
                              http::RequestBody& body, const PeerInfo& peer,
                              ResponseWriter& writer) {
  const BoardTurn on_board(request, peer);  // what this thread runs, for the hang report
  const bool logging = impl_->request_log.has_value();
  PyObject* kept_environ = nullptr;  // a strong reference, for the Python access logger
  thread_local AccessCapture capture;
  thread_local std::string deferred;  // a small response, sent after the GIL is released
  deferred.clear();
  RequestOutcome outcome;
  std::chrono::steady_clock::time_point started;
  {
    // --metrics-bind: how long this request waited for the GIL (the clock read only when on).
    const auto& metrics = metrics::recorder();
    const auto asked = metrics.enabled() ? std::chrono::steady_clock::now()
                                         : std::chrono::steady_clock::time_point{};
    GilHolder gil;  // the one acquire of this step; released only around large writes
    if (metrics.enabled()) metrics.gil_wait(std::chrono::steady_clock::now() - asked);
    if (!job) {
      job = std::make_unique<ResponseJob>(request, body, peer, writer);
      job->want_environ = logging;
    }
    job->stream.bind(writer, &deferred);
    try {
      impl_->step(*job);
    } catch (const std::exception& e) {
      spdlog::error("Error handling request {}: {}", request.target, e.what());
      job->stream.send_internal_error();
      job->call_close(impl_->close_name);
      job->phase = ResponseJob::Phase::Done;
    }
    if (job->phase != ResponseJob::Phase::Done) {
      // Parked: the loop writes what the socket did not take, then hands the job back.
      outcome.pending = std::move(job);
    } else {
      kept_environ = end_response(*job, outcome, capture);
      started = job->started;
      // The job's Python references die here, with the GIL held.
      job->release();
      job.reset();
    }
  }
  if (!deferred.empty()) {
    // Parks what the socket does not take (behind anything parked before it).
    const iovec iov{deferred.data(), deferred.size()};
    if (!writer.send(std::span<const iovec>(&iov, 1))) outcome.keep_alive = false;
  }
  if (outcome.pending) return outcome;
  // --request-timeout: the client got the worker's 504, not what the app returned late.
  if (std::uint64_t bytes = 0; const int status = writer.server_answer(&bytes)) {
    outcome.status = status;
    outcome.body_bytes = bytes;
    outcome.keep_alive = false;
  }
  if (logging) log_access(request, peer, outcome, started, capture, kept_environ);
  return outcome;
}

PyObject* AppRunner::end_response(ResponseJob& job, RequestOutcome& outcome,
                                  AccessCapture& capture) {
  ResponseStream& stream = job.stream;
  outcome.keep_alive = stream.keep_alive();
  outcome.status = stream.status_sent();
  outcome.body_bytes = stream.body_bytes();
  if (!impl_->request_log.has_value()) return nullptr;
  capture.response_fields = stream.head().fields;
  if (!impl_->request_log->forwards()) {
    capture.capture_environ(job.environ, impl_->request_log->environ_names());
    return nullptr;
  }
  // Kept for gunicorn's Logger.access(resp, req, environ, request_time), which runs after
  // the response went out; the forwarder drops it with the GIL held.
  const bool app_status = stream.has_head() && stream.head().code == outcome.status;
  capture.status_text = app_status ? stream.head().status : std::string();
  return job.environ.release().ptr();
}

void AppRunner::log_access(const http::Request& request, const PeerInfo& peer,
                           const RequestOutcome& outcome,
                           std::chrono::steady_clock::time_point started, AccessCapture& capture,
                           PyObject* kept_environ) {
  // Formatted and written without the GIL: the app's other threads run meanwhile.
  const auto duration = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  capture.split_fields();
  capture.request_headers.clear();
  for (const auto& field : request.headers)
    capture.request_headers.emplace_back(field.name, field.value);
  log::AccessRecord record;
  record.remote_addr = peer.remote_addr;
  record.method = request.method;
  record.raw_uri = request.target;
  capture.decode_path(request.path);
  record.path = capture.path;
  record.query = request.query;
  record.protocol = request.version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
  record.status = outcome.status;
  record.response_length = outcome.body_bytes;
  record.request_headers = capture.request_headers;
  record.response_headers = capture.response_headers;
  if (!capture.environ.empty()) {
    record.environ = [&capture](std::string_view key) -> std::optional<std::string> {
      for (const auto& [name, value] : capture.environ)
        if (name == key) return value;
      return std::nullopt;
    };
  }
  record.duration = duration;
  record.start = std::chrono::system_clock::now() - duration;
  if (impl_->request_log->forwards()) {
    record.status_text = capture.status_text;
    record.python_environ = kept_environ;  // consumed by the forwarder
  }
  impl_->request_log->log(record);
}

void AppRunner::log_answer_without_app(const http::Request& request, const PeerInfo& peer,
                                       int status, std::uint64_t body_bytes,
                                       std::chrono::microseconds duration) {
  if (!impl_->request_log.has_value()) return;
  // Only the loop thread calls this: one scratch for its header list.
  static thread_local std::vector<log::AccessRecord::Header> headers;
  headers.clear();
  for (const auto& field : request.headers) headers.emplace_back(field.name, field.value);
  log::AccessRecord record;
  record.remote_addr = peer.remote_addr;
  const bool have_line = !request.method.empty();
  record.method = have_line ? request.method : std::string_view("-");
  record.raw_uri = have_line ? request.target : std::string_view("-");
  record.path = request.path;
  record.query = request.query;
  record.protocol = !have_line ? "-" : request.version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
  record.status = status;
  record.response_length = body_bytes;
  record.request_headers = headers;
  record.duration = duration;
  record.start = std::chrono::system_clock::now() - duration;
  impl_->request_log->log(record);
}

}  // namespace gthreadd::wsgi
