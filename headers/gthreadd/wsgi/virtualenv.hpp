#pragma once
// Where a virtualenv's packages are: --virtualenv, else $VIRTUAL_ENV. Resolved before the
// interpreter starts so a wrong path fails at boot with a clear message.
#include <optional>
#include <string>

#include "gthreadd/config/settings.hpp"

namespace gthreadd::wsgi {

// The virtualenv the app runs in: --virtualenv, else $VIRTUAL_ENV, else the one this binary
// is installed in (ExecStart=/srv/venv/bin/gthreadd: VENV/bin/gthreadd next to
// VENV/pyvenv.cfg), else nullopt. Its interpreter is VENV/bin/python. Throws AppLoadError
// naming the venv when it has no pyvenv.cfg or python, or was made by another Python
// version than the one embedded (its packages' C extensions would not import).
std::optional<std::string> virtualenv_root(const config::Settings* settings);

// The venv's lib/python3.X/site-packages, nullopt when no venv is configured (used only
// when the interpreter was already running before the venv was known).
// Throws AppLoadError naming the venv when that directory does not exist.
std::optional<std::string> virtualenv_site_packages(const config::Settings& settings);

}  // namespace gthreadd::wsgi
