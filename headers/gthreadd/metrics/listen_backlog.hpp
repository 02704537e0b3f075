#pragma once
// How many connections wait in a listening socket's accept queue, as gunicorn 24.1's
// --enable-backlog-metric reads it (sock.get_backlog): TCP_INFO on the listening socket,
// where Linux reports the accept-queue length in tcpi_unacked and the queue's limit (the
// listen backlog) in tcpi_sacked (tcp_get_info, TCP_LISTEN state). TCP only: a unix socket
// has no TCP_INFO, and gunicorn reports nothing for it either.
#include <cstdint>
#include <optional>
#include <string>

namespace gthreadd::metrics {

struct ListenBacklog {
  std::uint32_t queued = 0;  // connections accepted by the kernel, not yet by a worker
  std::uint32_t limit = 0;   // the listen() backlog the kernel applies
};

// nullopt for a socket that is not a listening TCP socket.
std::optional<ListenBacklog> listen_backlog(int fd);

// A listener to report: its fd (owned elsewhere) and its name ("http://127.0.0.1:8000").
struct ListenerRef {
  int fd = -1;
  std::string name;
};

}  // namespace gthreadd::metrics
