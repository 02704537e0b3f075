#include "gthreadd/wsgi/app_runner.hpp"

#include "gthreadd/wsgi/python_compat.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gthreadd/log/request_log.hpp"
#include "gthreadd/metrics/recorder.hpp"

#include "gthreadd/wsgi/app_loader.hpp"
#include "gthreadd/wsgi/environ_builder.hpp"
#include "gthreadd/wsgi/error_stream.hpp"
#include "gthreadd/wsgi/file_wrapper.hpp"
#include "gthreadd/wsgi/input_stream.hpp"
#include "gthreadd/wsgi/interpreter.hpp"
#include "gthreadd/wsgi/py_visibility.hpp"
#include "gthreadd/wsgi/python_error.hpp"
#include "gthreadd/wsgi/python_module.hpp"
#include "gthreadd/wsgi/request_board.hpp"
#include "gthreadd/wsgi/response_stream.hpp"
#include "gthreadd/wsgi/server_hooks.hpp"
#include "gthreadd/wsgi/start_response.hpp"
#include "gthreadd/wsgi/thread_state.hpp"

namespace py = pybind11;

namespace gthreadd::wsgi {

struct GTHREADD_PY_HIDDEN AppRunner::Impl {
  py::object app;
  std::optional<EnvironBuilder> environ;
  bool sendfile = true;
  std::optional<log::RequestLog> request_log;  // engaged when something logs requests
  bool pre_request = false;                    // gunicorn.conf.py hooks, looked up once at boot
  bool post_request = false;
  py::object file_wrapper_type;  // looked up once: pybind11's isinstance<T> hashes the type name
  py::object close_name;         // interned "close"

  // wsgi.input and start_response objects of finished requests (detached), reused when
  // nothing but this list holds them any more: creating them per request cost more than
  // the hello app itself. An app that kept one keeps a detached object (b"" / ValueError),
  // never one bound to another request. Touched only with the GIL held, which serialises
  // the pool threads.
  struct SpareInput {
    py::object object;
    InputStream* stream;  // the C++ object inside `object`
  };
  mutable std::vector<SpareInput> spare_inputs;
  mutable std::vector<py::object> spare_start_responses;

  SpareInput take_input(http::RequestBody& body) const;
  py::object take_start_response(ResponseStream& stream) const;
  void give_back(SpareInput input, py::object start_response) const noexcept;

  // `environ_out` (may be null) receives the environ dict, for the access log.
  void run(const http::Request& request, http::RequestBody& body, const PeerInfo& peer,
           ResponseStream& stream, py::object* environ_out) const;
  // Sends the body from `result`; returns what was wrong with it ("" = fine).
  std::string iterate(const py::object& result, ResponseStream& stream) const;
  bool try_sendfile(const py::object& result, ResponseStream& stream) const;
};

bool AppRunner::Impl::try_sendfile(const py::object& result, ResponseStream& stream) const {
  auto* wrapper_type = reinterpret_cast<PyTypeObject*>(file_wrapper_type.ptr());
  if (!sendfile || !PyObject_TypeCheck(result.ptr(), wrapper_type) || !stream.has_head())
    return false;
  const auto& wrapper = result.cast<const FileWrapper&>();
  const int fd = wrapper.regular_file_fd();
  if (fd < 0) return false;
  // tell(), not the fd's offset: a buffered file object may have read ahead of what the
  // app consumed.
  off_t offset = 0;
  try {
    offset = py::hasattr(wrapper.filelike(), "tell")
                 ? static_cast<off_t>(wrapper.filelike().attr("tell")().cast<long long>())
                 : ::lseek(fd, 0, SEEK_CUR);
  } catch (const py::error_already_set&) {
    return false;
  }
  struct stat st {};
  if (offset < 0 || ::fstat(fd, &st) != 0) return false;
  const std::uint64_t count =
      st.st_size > offset ? static_cast<std::uint64_t>(st.st_size - offset) : 0;
  stream.send_file(fd, offset, count);
  return true;
}

std::string AppRunner::Impl::iterate(const py::object& result, ResponseStream& stream) const {
  if (try_sendfile(result, stream)) return {};
  auto accept = [&](PyObject* item) -> std::string {
    if (!PyBytes_Check(item))
      return std::string("response body items must be bytes, not ") + Py_TYPE(item)->tp_name;
    if (!stream.has_head()) {
      if (PyBytes_GET_SIZE(item) == 0) return {};
      return "the app returned body bytes without calling start_response";
    }
    stream.queue(item);
    return {};
  };
  if (PyList_CheckExact(result.ptr()) || PyTuple_CheckExact(result.ptr())) {
    // The whole body is here: queue it all and write it once, with a Content-Length.
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(result.ptr());
    for (Py_ssize_t i = 0; i < n; ++i)
      if (auto why = accept(PySequence_Fast_GET_ITEM(result.ptr(), i)); !why.empty()) return why;
    return {};
  }
  auto it = py::reinterpret_steal<py::object>(PyObject_GetIter(result.ptr()));
  if (!it) throw py::error_already_set();
  while (auto item = py::reinterpret_steal<py::object>(PyIter_Next(it.ptr()))) {
    if (auto why = accept(item.ptr()); !why.empty()) return why;
    // PEP 3333: a yielded block goes out before the next one is asked for.
    if (stream.has_pending() && !stream.flush(false)) return {};
  }
  if (PyErr_Occurred()) throw py::error_already_set();
  return {};
}

namespace {

// Only the caller's reference reaches `o`: no other reference and no weak reference.
bool only_ours(PyObject* o) noexcept {
  if (Py_REFCNT(o) != 1) return false;
  const Py_ssize_t offset = Py_TYPE(o)->tp_weaklistoffset;
  return offset <= 0 ||
         *reinterpret_cast<PyObject**>(reinterpret_cast<char*>(o) + offset) == nullptr;
}

constexpr std::size_t kMaxSpares = 256;  // more than any --threads uses at once

}  // namespace

AppRunner::Impl::SpareInput AppRunner::Impl::take_input(http::RequestBody& body) const {
  while (!spare_inputs.empty()) {
    SpareInput spare = std::move(spare_inputs.back());
    spare_inputs.pop_back();
    if (!only_ours(spare.object.ptr())) continue;  // the app kept it: it stays detached
    *spare.stream = InputStream(&body);
    return spare;
  }
  py::object object = py::cast(InputStream(&body));
  InputStream* stream = &object.cast<InputStream&>();
  return {std::move(object), stream};
}

py::object AppRunner::Impl::take_start_response(ResponseStream& stream) const {
  while (!spare_start_responses.empty()) {
    py::object spare = std::move(spare_start_responses.back());
    spare_start_responses.pop_back();
    if (!StartResponse::reusable(spare.ptr())) continue;
    StartResponse::rebind(spare.ptr(), &stream);
    return spare;
  }
  auto created = py::reinterpret_steal<py::object>(StartResponse::create(&stream));
  if (!created) throw py::error_already_set();
  return created;
}

void AppRunner::Impl::give_back(SpareInput input, py::object start_response) const noexcept {
  if (input.object) {
    input.stream->detach();
    if (spare_inputs.size() < kMaxSpares) spare_inputs.push_back(std::move(input));
  }
  if (start_response) {
    StartResponse::detach(start_response.ptr());
    if (spare_start_responses.size() < kMaxSpares)
      spare_start_responses.push_back(std::move(start_response));
  }
}

void AppRunner::Impl::run(const http::Request& request, http::RequestBody& body,
                          const PeerInfo& peer, ResponseStream& stream,
                          py::object* environ_out) const {
  SpareInput input = take_input(body);
  py::object start_response = take_start_response(stream);
  // The app may keep either object past the request: cut them off from this request's
  // body and stream whichever way we leave.
  struct Detach {
    const Impl& impl;
    SpareInput& input;
    py::object& start_response;
    ~Detach() { impl.give_back(std::move(input), std::move(start_response)); }
  } detach{*this, input, start_response};

  std::optional<py::error_already_set> failure;
  std::string invalid;
  py::object result;
  py::object req;  // the pre_request hook's `req`, handed on to post_request
  py::object environ_kept;
  try {
    // gunicorn's default pre_request hook logs "%s %s" (method, path) at debug; a hook of
    // the user's own replaces it, and the line with it.
    if (pre_request) req = call_pre_request(request);
    else spdlog::debug("{} {}", request.method, request.path);
    py::dict environ = this->environ->build(request, body, peer, input.object);
    if (StartResponse::add_early_hints(environ.ptr(), start_response.ptr()) < 0)
      throw py::error_already_set();
    if (pre_request) apply_added_headers(req, request.headers.size(), environ);
    if (environ_out) *environ_out = environ;
    if (post_request) environ_kept = environ;
    // Vectorcall: a Python function app gets its two arguments without an args tuple.
    PyObject* args[] = {environ.ptr(), start_response.ptr()};
    result = py::reinterpret_steal<py::object>(PyObject_Vectorcall(app.ptr(), args, 2, nullptr));
    if (!result) throw py::error_already_set();
    invalid = iterate(result, stream);
  } catch (py::error_already_set& e) {
    failure.emplace(std::move(e));
  } catch (const std::exception& e) {
    invalid = e.what();
  }
  // PEP 3333: close() is called once, whether iteration finished, failed or was cut short.
  // An exact list or tuple has no close(); for the rest one lookup with an interned name,
  // which, unlike py::hasattr, builds no AttributeError when there is none.
  if (result && !PyList_CheckExact(result.ptr()) && !PyTuple_CheckExact(result.ptr())) {
    PyObject* close = nullptr;
    // hasattr semantics: any error while looking it up means "no close()".
    if (compat::lookup_optional_attr(result.ptr(), close_name.ptr(), &close) < 0) PyErr_Clear();
    if (close != nullptr) {
      auto closed = py::reinterpret_steal<py::object>(PyObject_CallNoArgs(close));
      Py_DECREF(close);
      if (!closed) {
        py::error_already_set e;
        if (!failure) failure.emplace(std::move(e));
      }
    }
  }
  const std::string_view uri = request.target;
  if (failure) {
    if (stream.broken()) {
      spdlog::debug("Client went away during request {}", uri);
    } else {
      spdlog::error("Error handling request {}\n{}", uri, format_python_error(*failure));
    }
    stream.send_internal_error();
  } else if (!invalid.empty() || !stream.has_head()) {
    if (invalid.empty()) invalid = "start_response was not called";
    spdlog::error("Error handling request {}: invalid response: {}", uri, invalid);
    stream.send_internal_error();
  } else {
    stream.flush(true);
  }
  if (post_request) {
    // gunicorn calls post_request in a finally: also after an error response.
    try {
      call_post_request(req, request, environ_kept, stream.head(), stream.body_bytes());
    } catch (const py::error_already_set& e) {
      spdlog::error("Exception in post_request hook: {}", e.what());
    }
  }
}

AppRunner::AppRunner(const config::Settings& settings) : impl_(std::make_unique<Impl>()) {
  try {
    py::module_ module = python_module();
    impl_->app = load_app(settings.app);
    impl_->file_wrapper_type = module.attr("FileWrapper");
    impl_->close_name = py::reinterpret_steal<py::object>(PyUnicode_InternFromString("close"));
    // give_back() runs in a destructor: its push_back must never reallocate.
    impl_->spare_inputs.reserve(kMaxSpares);
    impl_->spare_start_responses.reserve(kMaxSpares);
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

namespace {

// What the access log needs from Python objects, copied while the GIL is held so the line
// is formatted and written after it is released. Reused per thread: no allocation per
// request once warm.
struct AccessCapture {
  std::string response_fields;  // "Name: value\r\n"... as validated
  std::string status_text;      // the app's status line, for a Python access logger
  std::vector<std::pair<std::string, std::string>> environ;  // key as looked up → value
  std::vector<log::AccessRecord::Header> request_headers;
  std::vector<log::AccessRecord::Header> response_headers;
  std::string path;  // PATH_INFO: %-decoded, as gunicorn's %(U)s prints it

  void decode_path(std::string_view raw) {
    path.clear();
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      c = static_cast<char>(c | 0x20);
      return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    };
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '%' && i + 2 < raw.size() && hex(raw[i + 1]) >= 0 && hex(raw[i + 2]) >= 0) {
        path += static_cast<char>(hex(raw[i + 1]) * 16 + hex(raw[i + 2]));
        i += 2;
      } else {
        path += raw[i];
      }
    }
  }

  void capture_environ(const py::object& environ, const std::vector<std::string>& names) {
    this->environ.clear();
    if (!environ || names.empty()) return;
    for (const auto& name : names) {
      std::string upper = name;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      const std::string* keys[] = {&upper, &name};
      for (const std::string* key : keys) {
        PyObject* value = PyDict_GetItemString(environ.ptr(), key->c_str());  // borrowed
        if (!value) continue;
        try {
          this->environ.emplace_back(*key, py::str(value).cast<std::string>());
        } catch (const py::error_already_set&) {
          // an unprintable value prints "-", as a missing one
        }
      }
    }
  }

  void split_fields() {
    response_headers.clear();
    std::string_view rest = response_fields;
    while (!rest.empty()) {
      const auto eol = rest.find("\r\n");
      std::string_view line = rest.substr(0, eol);
      rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      response_headers.emplace_back(line.substr(0, colon), value);
    }
  }
};

}  // namespace

RequestOutcome AppRunner::handle(const http::Request& request, http::RequestBody& body,
                                 const PeerInfo& peer, ResponseWriter& writer) {
  const BoardTurn on_board(request, peer);  // what this thread runs, for the hang report
  const bool logging = impl_->request_log.has_value();
  const bool python_access = logging && impl_->request_log->forwards();
  PyObject* kept_environ = nullptr;  // a strong reference, for the Python access logger
  const auto started = std::chrono::steady_clock::now();
  thread_local AccessCapture capture;
  thread_local std::string deferred;  // a small response, sent after the GIL is released
  deferred.clear();
  RequestOutcome outcome;
  {
    // --metrics-bind: how long this request waited for the GIL (the clock read only when on).
    const auto& metrics = metrics::recorder();
    const auto asked = metrics.enabled() ? std::chrono::steady_clock::now()
                                         : std::chrono::steady_clock::time_point{};
    GilHolder gil;  // the one acquire of this request; released only around large writes
    if (metrics.enabled()) metrics.gil_wait(std::chrono::steady_clock::now() - asked);
    ResponseStream stream(request, writer);
    stream.defer_final_write_to(&deferred);
    py::object environ;
    try {
      impl_->run(request, body, peer, stream, logging ? &environ : nullptr);
    } catch (const std::exception& e) {
      spdlog::error("Error handling request {}: {}", request.target, e.what());
      stream.send_internal_error();
    }
    outcome.keep_alive = stream.keep_alive();
    outcome.status = stream.status_sent();
    outcome.body_bytes = stream.body_bytes();
    if (logging) {
      capture.response_fields = stream.head().fields;
      if (python_access) {
        // Kept for gunicorn's Logger.access(resp, req, environ, request_time), which runs
        // after the response went out; the forwarder drops it with the GIL held.
        kept_environ = environ.release().ptr();
        const bool app_status = stream.has_head() && stream.head().code == outcome.status;
        capture.status_text = app_status ? stream.head().status : std::string();
      } else {
        capture.capture_environ(environ, impl_->request_log->environ_names());
      }
    }
    // The environ dict and its references die here, with the GIL held (the one kept for
    // a Python access logger dies in the forwarder, with the GIL held too).
  }
  if (!deferred.empty()) {
    const iovec iov{deferred.data(), deferred.size()};
    if (!writer.send(std::span<const iovec>(&iov, 1))) outcome.keep_alive = false;
  }
  // --request-timeout: the client got the worker's 504, not what the app returned late.
  if (std::uint64_t bytes = 0; const int status = writer.server_answer(&bytes)) {
    outcome.status = status;
    outcome.body_bytes = bytes;
    outcome.keep_alive = false;
  }
  if (!logging) return outcome;

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
    record.environ = [](std::string_view key) -> std::optional<std::string> {
      for (const auto& [name, value] : capture.environ)
        if (name == key) return value;
      return std::nullopt;
    };
  }
  record.duration = duration;
  record.start = std::chrono::system_clock::now() - duration;
  if (python_access) {
    record.status_text = capture.status_text;
    record.python_environ = kept_environ;  // consumed by the forwarder
  }
  impl_->request_log->log(record);
  return outcome;
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
