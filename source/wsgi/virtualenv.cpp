#include "gthreadd/wsgi/virtualenv.hpp"

#include <Python.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gthreadd/wsgi/interpreter.hpp"

namespace gthreadd::wsgi {

namespace {

// "version = 3.12.1" (venv) or "version_info = 3.12.1.final.0" (virtualenv): "3.12".
std::string venv_version(const std::filesystem::path& cfg) {
  std::ifstream in(cfg);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    if (key != "version" && key != "version_info") continue;
    std::string value = line.substr(eq + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    const auto first = value.find('.');
    if (first == std::string::npos) continue;
    const auto second = value.find_first_not_of("0123456789", first + 1);
    return value.substr(0, second);
  }
  return {};
}

}  // namespace

std::optional<std::string> virtualenv_root(const config::Settings* settings) {
  namespace fs = std::filesystem;
  std::string venv = settings != nullptr ? settings->virtualenv : std::string();
  if (venv.empty()) {
    if (const char* env = std::getenv("VIRTUAL_ENV"); env != nullptr && *env != '\0') venv = env;
  }
  if (venv.empty()) {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec && exe.parent_path().filename() == "bin" &&
        fs::exists(exe.parent_path().parent_path() / "pyvenv.cfg", ec)) {
      venv = exe.parent_path().parent_path().string();
    }
  }
  if (venv.empty()) return std::nullopt;
  const fs::path root = fs::absolute(venv).lexically_normal();
  const std::string embedded =
      std::to_string(PY_MAJOR_VERSION) + "." + std::to_string(PY_MINOR_VERSION);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw AppLoadError("virtualenv '" + venv + "' does not exist");
  const fs::path cfg = root / "pyvenv.cfg";
  if (!fs::exists(cfg, ec))
    throw AppLoadError("virtualenv '" + venv + "' has no pyvenv.cfg (make it with python" +
                       embedded + " -m venv)");
  const std::string version = venv_version(cfg);
  if (!version.empty() && version != embedded)
    throw AppLoadError(
        "virtualenv '" + venv + "' is Python " + version + ", but this gthreadd embeds Python " +
        embedded + ": build one for it with cmake -DPython_EXECUTABLE=" +
        (root / "bin" / "python").string() + " (see the README, \"Another Python\")");
  if (::access((root / "bin" / "python").c_str(), X_OK) != 0)
    throw AppLoadError("virtualenv '" + venv + "' has no bin/python");
  return root.string();
}

std::optional<std::string> virtualenv_site_packages(const config::Settings& settings) {
  std::string venv = settings.virtualenv;
  if (venv.empty()) {
    const char* env = std::getenv("VIRTUAL_ENV");
    if (env == nullptr || *env == '\0') return std::nullopt;
    venv = env;
  }
  // The embedded interpreter's version, not whatever python made the venv: packages with
  // C extensions built for another version would not import.
  const std::string version =
      std::to_string(PY_MAJOR_VERSION) + "." + std::to_string(PY_MINOR_VERSION);
  const auto site = std::filesystem::path(venv) / "lib" / ("python" + version) / "site-packages";
  std::error_code ec;
  if (!std::filesystem::is_directory(site, ec)) {
    throw AppLoadError("virtualenv '" + venv + "' has no " + site.string() + " (is it a Python " +
                       version + " virtualenv?)");
  }
  return std::filesystem::absolute(site).lexically_normal().string();
}

}  // namespace gthreadd::wsgi
