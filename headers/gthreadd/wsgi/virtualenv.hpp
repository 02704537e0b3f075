#pragma once
// Where a virtualenv's packages are: --virtualenv, else $VIRTUAL_ENV. Resolved before the
// interpreter starts so a wrong path fails at boot with a clear message.
#include <optional>
#include <string>

#include "gthreadd/config/settings.hpp"

namespace gthreadd::wsgi {

// The venv's lib/python3.11/site-packages, nullopt when no venv is configured.
// Throws AppLoadError naming the venv when that directory does not exist.
std::optional<std::string> virtualenv_site_packages(const config::Settings& settings);

}  // namespace gthreadd::wsgi
