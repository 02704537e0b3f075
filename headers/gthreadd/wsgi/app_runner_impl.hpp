#pragma once
// AppRunner's insides, shared by app_runner.cpp (the RequestHandler side: the GIL, the
// outcome, the access log) and response_job.cpp (one response's steps through the app).
// Every member is touched only with the GIL held.
#include <pybind11/pybind11.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "gthreadd/http/request.hpp"
#include "gthreadd/http/request_body.hpp"
#include "gthreadd/log/request_log.hpp"
#include "gthreadd/worker/request_handler.hpp"
#include "gthreadd/wsgi/app_runner.hpp"
#include "gthreadd/wsgi/environ_builder.hpp"
#include "gthreadd/wsgi/input_stream.hpp"
#include "gthreadd/wsgi/peer_info.hpp"
#include "gthreadd/wsgi/py_visibility.hpp"
#include "gthreadd/wsgi/response_stream.hpp"

namespace gthreadd::wsgi {

struct ResponseJob;

struct GTHREADD_PY_HIDDEN AppRunner::Impl {
  pybind11::object app;
  std::optional<EnvironBuilder> environ;
  bool sendfile = true;
  std::optional<log::RequestLog> request_log;  // engaged when something logs requests
  bool pre_request = false;                    // gunicorn.conf.py hooks, looked up once at boot
  bool post_request = false;
  pybind11::object
      file_wrapper_type;        // looked up once: pybind11's isinstance<T> hashes the type name
  pybind11::object close_name;  // interned "close"

  // wsgi.input and start_response objects of finished requests (detached), reused when
  // nothing but this list holds them any more: creating them per request cost more than
  // the hello app itself. An app that kept one keeps a detached object (b"" / ValueError),
  // never one bound to another request. The GIL serialises the pool threads here.
  struct SpareInput {
    pybind11::object object;
    InputStream* stream = nullptr;  // the C++ object inside `object`
  };
  mutable std::vector<SpareInput> spare_inputs;
  mutable std::vector<pybind11::object> spare_start_responses;
  static constexpr std::size_t kMaxSpares = 256;  // more than any --threads uses at once

  SpareInput take_input(http::RequestBody& body) const;
  pybind11::object take_start_response(ResponseStream& stream) const;
  void give_back(SpareInput input, pybind11::object start_response) const noexcept;

  // Runs `job` until it is done or its stream is parked (response_job.cpp).
  void step(ResponseJob& job) const;

 private:
  void start(ResponseJob& job) const;          // pre_request, environ, the app call
  void iterate(ResponseJob& job) const;        // the body, until the end or a park
  void close_and_end(ResponseJob& job) const;  // result.close(), the final flush or a 500
  void finish(ResponseJob& job) const;         // post_request, spare objects back
  std::string accept_item(PyObject* item, ResponseStream& stream) const;
  bool try_sendfile(const pybind11::object& result, ResponseStream& stream) const;
};

// One response's state between the steps of the app's side (docs/architecture.md, "Parked
// responses"): created by AppRunner::handle, carried by the connection as its
// PendingResponse while the loop writes what was parked, resumed on any pool thread.
struct GTHREADD_PY_HIDDEN ResponseJob final : worker::PendingResponse {
  enum class Phase { Start, Iterating, Closing, Finishing, Done };

  ResponseJob(const http::Request& request, http::RequestBody& body, const PeerInfo& peer,
              ResponseWriter& writer)
      : request(request), body(body), peer(peer), stream(request, writer) {}
  // Normally released() already (with the GIL, at the end); a job dropped mid-way (a loop torn
  // down with a response parked: the unit tests; a worker exits with _exit, no destructors)
  // calls result.close() and releases its objects here, with the GIL taken.
  ~ResponseJob() override;
  ResponseJob(const ResponseJob&) = delete;
  ResponseJob& operator=(const ResponseJob&) = delete;

  // GIL held: the app's result.close() if not called yet (PEP 3333: exactly once), and every
  // Python reference dropped.
  void call_close(const pybind11::object& close_name) noexcept;
  void release() noexcept;

  const http::Request& request;  // the connection's: it stays put while the job lives
  http::RequestBody& body;
  const PeerInfo& peer;
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  ResponseStream stream;
  Phase phase = Phase::Start;
  bool want_environ = false;  // kept for the access log
  bool closed = false;        // result.close() was called (or there is none)
  bool released = false;

  AppRunner::Impl::SpareInput input;
  pybind11::object start_response;
  pybind11::object result;
  pybind11::object iterator;
  pybind11::object req;  // the pre_request hook's `req`, handed on to post_request
  pybind11::object environ;
  std::optional<pybind11::error_already_set> failure;
  std::string invalid;  // what was wrong with the response ("" = fine)
};

}  // namespace gthreadd::wsgi
