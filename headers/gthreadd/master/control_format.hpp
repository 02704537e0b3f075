#pragma once
// How `gthreadd ctl` prints an answer: the tables and lists of gunicorn 25.1's gunicornc
// (gunicorn/ctl/cli.py) for the show commands and help, with gthreadd's extra columns
// (UPTIME, REQUESTS); pretty JSON for the rest.
#include <string>

#include "gthreadd/master/control_json.hpp"

namespace gthreadd::master {

std::string format_answer(const std::string& command, const Json& data);

}  // namespace gthreadd::master
