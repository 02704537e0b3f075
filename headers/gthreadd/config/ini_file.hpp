#pragma once
// INI config files (inih): section [gthreadd] or [gunicorn], keys spelled as gunicorn's
// settings. Other sections are ignored, so one file can also hold, say, [uwsgi].
#include <string>

#include "gthreadd/config/settings.hpp"

namespace gthreadd::config {

// Applies the file on top of `settings`. Throws ConfigError naming the file, the line and the
// setting for an unreadable file, a syntax error, an unknown key or a bad value.
void apply_ini_file(Settings& settings, const std::string& path);

}  // namespace gthreadd::config
