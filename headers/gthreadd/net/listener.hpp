#pragma once
// Listening sockets, bound by the master before any fork so every worker inherits them.
#include <functional>
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
  bool inherited = false;  // from the environment: never unlinked by us

  [[nodiscard]] std::string url() const { return address.url(); }
};

// Environment variable through which a re-exec'd master (USR2) receives the listening fds.
inline constexpr const char* kInheritedFdsEnv = "GTHREADD_FD";

// Sockets handed over by a previous master (GTHREADD_FD or GUNICORN_FD) or by systemd
// (LISTEN_FDS/LISTEN_PID). Empty when there are none. The variables are cleared so the
// app and its children do not see them.
std::vector<Listener> inherited_listeners();

// How often an address that cannot be bound is tried. gunicorn's sock.create_sockets tries
// 5 times, sleeping a second after each failure, so a restart under a supervisor survives the
// old process still holding the port for a moment.
// net does not log by itself (it links no logging library): the caller passes where the
// messages go, `debug` telling gunicorn's debug-level line from its error-level ones.
struct BindRetry {
  int attempts = 5;
  int delay_ms = 1000;
  std::function<void(bool debug, const std::string& message)> log;
};

// Inherited sockets, when there are any, take the place of --bind (as gunicorn does).
// Otherwise binds every --bind address (non-blocking, CLOEXEC, SO_REUSEADDR, SO_REUSEPORT with
// --reuse-port, listen(backlog)). A stale unix socket file is replaced. Each failed attempt is
// logged as gunicorn logs it ("Connection in use: ('127.0.0.1', 8000)", "Retrying in 1
// second."); when every attempt failed, throws std::runtime_error("Can't connect to ...").
std::vector<Listener> bind_listeners(const config::Settings& settings, BindRetry retry = {});

// The address as gunicorn's messages print it: str() of its address tuple or path.
std::string gunicorn_address_text(const config::BindAddress& addr);

}  // namespace gthreadd::net
