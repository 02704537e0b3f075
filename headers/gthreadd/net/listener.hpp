#pragma once
// Listening sockets, bound by the master before any fork so every worker inherits them.
#include <string>
#include <vector>

#include "gthreadd/config/bind_address.hpp"
#include "gthreadd/config/settings.hpp"
#include "gthreadd/core/unique_fd.hpp"

namespace gthreadd::net {

struct Listener {
  core::UniqueFd fd;
  config::BindAddress address;  // with the real port filled in when port 0 was asked for
  bool is_unix = false;
  bool inherited = false;       // from the environment: never unlinked by us

  [[nodiscard]] std::string url() const { return address.url(); }
};

// Environment variable through which a re-exec'd master (USR2) receives the listening fds.
inline constexpr const char* kInheritedFdsEnv = "GTHREADD_FD";

// Sockets handed over by a previous master (GTHREADD_FD or GUNICORN_FD) or by systemd
// (LISTEN_FDS/LISTEN_PID). Empty when there are none. The variables are cleared so the
// app and its children do not see them.
std::vector<Listener> inherited_listeners();

// Inherited sockets, when there are any, take the place of --bind (as gunicorn does).
// Otherwise binds every --bind address (non-blocking, CLOEXEC, SO_REUSEADDR, SO_REUSEPORT with
// --reuse-port, listen(backlog)). A stale unix socket file is replaced. Throws
// std::runtime_error naming the address on failure (gunicorn: "Connection in use").
std::vector<Listener> bind_listeners(const config::Settings& settings);

}  // namespace gthreadd::net
