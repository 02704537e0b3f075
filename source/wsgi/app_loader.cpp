#include "gthreadd/wsgi/app_loader.hpp"

#include <string>

#include "gthreadd/wsgi/interpreter.hpp"
#include "gthreadd/wsgi/python_error.hpp"

namespace py = pybind11;

namespace gthreadd::wsgi {
namespace {

// The text inside "factory(...)" evaluated with ast.literal_eval, so "create_app('prod',
// debug=True)" works and nothing but literals can be run from the command line.
std::pair<py::tuple, py::dict> literal_arguments(const config::AppUri& uri) {
  py::module_ ast = py::module_::import("ast");
  py::object tree = ast.attr("parse")("f(" + uri.call_arguments + ")", "<APP_URI>", "eval");
  py::object call = tree.attr("body");
  py::object literal_eval = ast.attr("literal_eval");
  py::list args;
  for (py::handle arg : call.attr("args")) args.append(literal_eval(arg));
  py::dict kwargs;
  for (py::handle kw : call.attr("keywords")) {
    if (kw.attr("arg").is_none()) throw py::value_error("**kwargs is not allowed in APP_URI");
    kwargs[kw.attr("arg")] = literal_eval(kw.attr("value"));
  }
  return {py::tuple(args), kwargs};
}

}  // namespace

py::object load_app(const config::AppUri& uri) {
  const std::string attribute = uri.attribute.empty() ? "application" : uri.attribute;
  py::object object;
  try {
    // The C API, not importlib.import_module: the importlib package itself is then never
    // imported into a worker that does not need it. Returns the named (leaf) module.
    object = py::reinterpret_steal<py::object>(PyImport_ImportModule(uri.module.c_str()));
    if (!object) throw py::error_already_set();
  } catch (const py::error_already_set& e) {
    throw AppLoadError("Failed to import module '" + uri.module + "':\n" + format_python_error(e));
  }
  std::string walked;
  std::size_t start = 0;
  while (start <= attribute.size()) {
    const auto dot = attribute.find('.', start);
    const std::string part = attribute.substr(start, dot == std::string::npos ? dot : dot - start);
    walked += (walked.empty() ? "" : ".") + part;
    if (part.empty() || !py::hasattr(object, part.c_str()))
      throw AppLoadError("Failed to find attribute '" + walked + "' in '" + uri.module + "'.");
    object = object.attr(part.c_str());
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (uri.is_call) {
    try {
      auto [args, kwargs] = literal_arguments(uri);
      object = object(*args, **kwargs);
    } catch (const py::error_already_set& e) {
      throw AppLoadError("Failed to call '" + attribute + "(" + uri.call_arguments + ")' in '" +
                         uri.module + "':\n" + format_python_error(e));
    }
  }
  if (!PyCallable_Check(object.ptr()))
    throw AppLoadError("Application object '" + attribute + "' in '" + uri.module +
                       "' must be callable.");
  return object;
}

}  // namespace gthreadd::wsgi
