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

  [[nodiscard]] std::string url() const { return address.url(); }
};

// Binds every --bind address (non-blocking, CLOEXEC, SO_REUSEADDR, SO_REUSEPORT with
// --reuse-port, listen(backlog)). A stale unix socket file is replaced. Throws
// std::runtime_error naming the address on failure (gunicorn: "Connection in use").
std::vector<Listener> bind_listeners(const config::Settings& settings);

}  // namespace gthreadd::net
