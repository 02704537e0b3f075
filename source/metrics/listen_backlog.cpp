#include "gthreadd/metrics/listen_backlog.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace gthreadd::metrics {

std::optional<ListenBacklog> listen_backlog(int fd) {
  tcp_info info{};
  socklen_t length = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return std::nullopt;
  if (info.tcpi_state != TCP_LISTEN) return std::nullopt;
  return ListenBacklog{info.tcpi_unacked, info.tcpi_sacked};
}

}  // namespace gthreadd::metrics
