#include "gthreadd/wsgi/virtualenv.hpp"

#include <Python.h>

#include <cstdlib>
#include <filesystem>

#include "gthreadd/wsgi/interpreter.hpp"

namespace gthreadd::wsgi {

std::optional<std::string> virtualenv_site_packages(const config::Settings& settings) {
  std::string venv = settings.virtualenv;
  if (venv.empty()) {
    const char* env = std::getenv("VIRTUAL_ENV");
    if (env == nullptr || *env == '\0') return std::nullopt;
    venv = env;
  }
  // The embedded interpreter's version, not whatever python made the venv: packages with
  // C extensions built for another version would not import.
  const std::string version = std::to_string(PY_MAJOR_VERSION) + "." + std::to_string(PY_MINOR_VERSION);
  const auto site = std::filesystem::path(venv) / "lib" / ("python" + version) / "site-packages";
  std::error_code ec;
  if (!std::filesystem::is_directory(site, ec)) {
    throw AppLoadError("virtualenv '" + venv + "' has no " + site.string() + " (is it a Python " +
                       version + " virtualenv?)");
  }
  return std::filesystem::absolute(site).lexically_normal().string();
}

}  // namespace gthreadd::wsgi
