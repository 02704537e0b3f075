#pragma once
// The HTTP parser's limits from the settings, as gunicorn reads the same options.
#include <string>
#include <vector>

#include "gthreadd/config/settings.hpp"
#include "gthreadd/core/address_matcher.hpp"
#include "gthreadd/http/request_parser.hpp"

namespace gthreadd::worker {

http::ParseLimits limits_from(const config::Settings& settings);
// The settings were checked at start-up (config/), so a bad entry cannot get here; if one
// did, nobody is trusted.
core::AddressMatcher matcher_from(const std::vector<std::string>& entries);

}  // namespace gthreadd::worker
