#pragma once
// The start_response callable and the write() callable it returns (PEP 3333 "The
// start_response() Callable"). One instance per request; detached when the request ends so
// a reference kept by the app cannot reach a finished response.
#include <pybind11/pybind11.h>

#include "gthreadd/wsgi/response_stream.hpp"

namespace gthreadd::wsgi {

class StartResponse {
 public:
  explicit StartResponse(ResponseStream* stream) : stream_(stream) {}

  pybind11::object call(const pybind11::object& status, const pybind11::object& headers,
                        const pybind11::object& exc_info);
  void write(const pybind11::object& data);

  void detach() noexcept { stream_ = nullptr; }

  static void register_type(pybind11::module_& module);

 private:
  ResponseStream& stream();
  ResponseStream* stream_;
};

}  // namespace gthreadd::wsgi
