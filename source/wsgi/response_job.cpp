// One response through the app, in steps that stop wherever its stream parks (the socket
// full: docs/architecture.md, "Parked responses") and go on, on any pool thread, once the
// loop has written what was parked. Every function runs with the GIL held.
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gthreadd/wsgi/app_runner_impl.hpp"
#include "gthreadd/wsgi/file_wrapper.hpp"
#include "gthreadd/wsgi/python_compat.hpp"
#include "gthreadd/wsgi/python_error.hpp"
#include "gthreadd/wsgi/server_hooks.hpp"
#include "gthreadd/wsgi/start_response.hpp"

namespace py = pybind11;

namespace gthreadd::wsgi {
namespace {

// Only the caller's reference reaches `o`: no other reference and no weak reference.
bool only_ours(PyObject* o) noexcept {
  if (Py_REFCNT(o) != 1) return false;
  const Py_ssize_t offset = Py_TYPE(o)->tp_weaklistoffset;
  return offset <= 0 ||
         *reinterpret_cast<PyObject**>(reinterpret_cast<char*>(o) + offset) == nullptr;
}

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

std::string AppRunner::Impl::accept_item(PyObject* item, ResponseStream& stream) const {
  if (!PyBytes_Check(item))
    return std::string("response body items must be bytes, not ") + Py_TYPE(item)->tp_name;
  if (!stream.has_head()) {
    if (PyBytes_GET_SIZE(item) == 0) return {};
    return "the app returned body bytes without calling start_response";
  }
  stream.queue(item);
  return {};
}

void AppRunner::Impl::step(ResponseJob& job) const {
  using Phase = ResponseJob::Phase;
  while (job.phase != Phase::Done && !job.stream.parked()) {
    switch (job.phase) {
      case Phase::Start: start(job); break;
      case Phase::Iterating: iterate(job); break;
      case Phase::Closing: close_and_end(job); break;
      case Phase::Finishing: finish(job); break;
      case Phase::Done: break;
    }
  }
}

void AppRunner::Impl::start(ResponseJob& job) const {
  job.phase = ResponseJob::Phase::Closing;  // wherever this leaves, unless it iterates
  job.input = take_input(job.body);
  job.start_response = take_start_response(job.stream);
  try {
    // gunicorn's default pre_request hook logs "%s %s" (method, path) at debug; a hook of
    // the user's own replaces it, and the line with it.
    if (pre_request) job.req = call_pre_request(job.request);
    else spdlog::debug("{} {}", job.request.method, job.request.path);
    py::dict environ = this->environ->build(job.request, job.body, job.peer, job.input.object);
    if (StartResponse::add_early_hints(environ.ptr(), job.start_response.ptr()) < 0)
      throw py::error_already_set();
    if (pre_request) apply_added_headers(job.req, job.request.headers.size(), environ);
    if (job.want_environ || post_request) job.environ = environ;
    // Vectorcall: a Python function app gets its two arguments without an args tuple.
    PyObject* args[] = {environ.ptr(), job.start_response.ptr()};
    job.result =
        py::reinterpret_steal<py::object>(PyObject_Vectorcall(app.ptr(), args, 2, nullptr));
    if (!job.result) throw py::error_already_set();
    if (try_sendfile(job.result, job.stream)) return;
    PyObject* result = job.result.ptr();
    if (PyList_CheckExact(result) || PyTuple_CheckExact(result)) {
      // The whole body is here: queue it all and write it once, with a Content-Length.
      job.closed = true;  // an exact list or tuple has no close()
      const Py_ssize_t n = PySequence_Fast_GET_SIZE(result);
      for (Py_ssize_t i = 0; i < n && job.invalid.empty(); ++i)
        job.invalid = accept_item(PySequence_Fast_GET_ITEM(result, i), job.stream);
      return;
    }
    job.iterator = py::reinterpret_steal<py::object>(PyObject_GetIter(result));
    if (!job.iterator) throw py::error_already_set();
    job.phase = ResponseJob::Phase::Iterating;
  } catch (py::error_already_set& e) {
    job.failure.emplace(std::move(e));
  } catch (const std::exception& e) {
    job.invalid = e.what();
  }
}

void AppRunner::Impl::iterate(ResponseJob& job) const {
  auto& stream = job.stream;
  try {
    // PEP 3333: a yielded block goes out before the next one is asked for; parked, it goes
    // out from the loop, and the next is asked for once it has (step() stops here). Not
    // batched (parking several blocks per resume would mean fewer hand-offs): PEP 3333 forbids
    // holding a block back while the app produces the next, and a generator that waits
    // between server-sent events would hold its parked block back that long.
    while (!stream.parked() && !stream.broken()) {
      auto item = py::reinterpret_steal<py::object>(PyIter_Next(job.iterator.ptr()));
      if (!item) {
        if (PyErr_Occurred()) throw py::error_already_set();
        break;
      }
      job.invalid = accept_item(item.ptr(), stream);
      if (!job.invalid.empty()) break;
      if (stream.has_pending() && !stream.flush(false)) break;
    }
  } catch (py::error_already_set& e) {
    job.failure.emplace(std::move(e));
  } catch (const std::exception& e) {
    job.invalid = e.what();
  }
  if (!stream.parked() || stream.broken() || job.failure || !job.invalid.empty())
    job.phase = ResponseJob::Phase::Closing;
}

void AppRunner::Impl::close_and_end(ResponseJob& job) const {
  job.phase = ResponseJob::Phase::Finishing;
  job.iterator = py::object();
  // PEP 3333: close() is called once, whether iteration finished, failed or was cut short.
  job.call_close(close_name);
  auto& stream = job.stream;
  const std::string_view uri = job.request.target;
  if (job.failure) {
    if (stream.broken()) {
      spdlog::debug("Client went away during request {}", uri);
    } else {
      spdlog::error("Error handling request {}\n{}", uri, format_python_error(*job.failure));
    }
    stream.send_internal_error();
  } else if (!job.invalid.empty() || !stream.has_head()) {
    if (job.invalid.empty()) job.invalid = "start_response was not called";
    spdlog::error("Error handling request {}: invalid response: {}", uri, job.invalid);
    stream.send_internal_error();
  } else {
    stream.flush(true);
  }
}

void AppRunner::Impl::finish(ResponseJob& job) const {
  job.phase = ResponseJob::Phase::Done;
  if (post_request) {
    // gunicorn calls post_request in a finally: also after an error response.
    try {
      call_post_request(job.req, job.request, job.environ, job.stream.head(),
                        job.stream.body_bytes());
    } catch (const py::error_already_set& e) {
      spdlog::error("Exception in post_request hook: {}", e.what());
    }
  }
  // The app may keep either object past the request: cut off from this request's body and
  // stream, they wait for the next request in the spare lists.
  give_back(std::move(job.input), std::move(job.start_response));
  job.input = {};
  job.start_response = py::object();
}

void ResponseJob::call_close(const py::object& close_name) noexcept {
  if (closed || !result) return;
  closed = true;
  // One lookup with an interned name, which, unlike py::hasattr, builds no AttributeError
  // when there is none; any error while looking it up means "no close()".
  PyObject* close = nullptr;
  if (compat::lookup_optional_attr(result.ptr(), close_name.ptr(), &close) < 0) PyErr_Clear();
  if (close == nullptr) return;
  auto closed_ok = py::reinterpret_steal<py::object>(PyObject_CallNoArgs(close));
  Py_DECREF(close);
  if (!closed_ok) {
    py::error_already_set e;
    if (!failure) failure.emplace(std::move(e));
  }
}

void ResponseJob::release() noexcept {
  released = true;
  if (input.object) input.stream->detach();
  if (start_response) StartResponse::detach(start_response.ptr());
  input = {};
  start_response = py::object();
  result = py::object();
  iterator = py::object();
  req = py::object();
  environ = py::object();
  failure.reset();
  stream.release();
}

ResponseJob::~ResponseJob() {
  if (released) return;
  const PyGILState_STATE gil = PyGILState_Ensure();
  iterator = py::object();
  auto name = py::reinterpret_steal<py::object>(PyUnicode_InternFromString("close"));
  if (name) call_close(name);
  PyErr_Clear();
  release();
  PyGILState_Release(gil);
}

}  // namespace gthreadd::wsgi
