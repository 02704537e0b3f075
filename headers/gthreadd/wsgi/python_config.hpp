#pragma once
// gunicorn.conf.py: executed in the embedded interpreter (in the master), as gunicorn does
// with util.load_config_from_filename. Module-level names that are settings become
// assignments (validated by the settings table like any other source), hook names register
// server hooks, other public names get one warning naming them.
#include <string>
#include <vector>

#include "gthreadd/config/setting_source.hpp"

namespace gthreadd::wsgi {

// Throws config::ConfigError with the file name and the Python traceback when the file
// cannot be run, or names the setting when a value has the wrong type.
std::vector<config::Assignment> read_python_config(const std::string& path);

// Lets config::parse_settings read .py files (and ./gunicorn.conf.py) with the above.
void install_python_config_reader();

}  // namespace gthreadd::wsgi
