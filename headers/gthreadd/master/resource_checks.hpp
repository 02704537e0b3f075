#pragma once
// Start-up checks of what the settings need from the machine, before any worker forks, so
// a shortfall is one clear message from the master instead of failures under load.
#include "gthreadd/config/settings.hpp"

namespace gthreadd::master {

// File descriptors: each connection is one, a spilled request body another. Raises the soft
// RLIMIT_NOFILE up to what --worker-connections needs where the hard limit allows (the
// workers inherit it), and warns when it cannot: a worker at the limit pauses accepting.
void fit_fd_limit(const config::Settings& settings);

// The spill directory for request bodies (--body-tmp-dir, default $TMPDIR, else /var/tmp)
// must be a writable directory. Returns an error message naming it, or empty.
std::string check_body_tmp_dir(const config::Settings& settings);

}  // namespace gthreadd::master
