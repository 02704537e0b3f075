#include "gthreadd/net/listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace gthreadd::net {
namespace {

std::runtime_error bind_error(const config::BindAddress& addr, const char* what, int err) {
  return std::runtime_error("cannot listen at " + addr.original + ": " + what + ": " +
                            std::strerror(err));
}

void set_common_options(int fd, const config::Settings& settings, bool tcp) {
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (tcp && settings.reuse_port) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
}

Listener bind_tcp(const config::BindAddress& addr, const config::Settings& settings) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(addr.port);
  const char* host = addr.host.empty() ? nullptr : addr.host.c_str();
  if (int rc = ::getaddrinfo(host, port.c_str(), &hints, &found); rc != 0)
    throw std::runtime_error("cannot listen at " + addr.original + ": " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, ::freeaddrinfo);

  int last_errno = 0;
  const char* last_step = "socket";
  for (addrinfo* ai = found; ai; ai = ai->ai_next) {
    core::UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) { last_errno = errno; last_step = "socket"; continue; }
    set_common_options(fd.get(), settings, true);
    if (ai->ai_family == AF_INET6) {
      int one = 1;  // "[::]:8000" means IPv6 only, as gunicorn does
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      last_errno = errno; last_step = "bind"; continue;
    }
    if (::listen(fd.get(), settings.backlog) != 0) {
      last_errno = errno; last_step = "listen"; continue;
    }
    Listener l{std::move(fd), addr, false};
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    if (::getsockname(l.fd.get(), reinterpret_cast<sockaddr*>(&bound), &len) == 0) {
      l.address.port = ntohs(bound.ss_family == AF_INET6
                                 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                 : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    }
    return l;
  }
  throw bind_error(addr, last_step, last_errno);
}

Listener bind_unix(const config::BindAddress& addr, const config::Settings& settings) {
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  if (addr.path.size() >= sizeof sun.sun_path)
    throw std::runtime_error("cannot listen at " + addr.original + ": path too long");
  std::memcpy(sun.sun_path, addr.path.c_str(), addr.path.size() + 1);
  // A socket file left by a previous run would make bind fail; only a socket is removed,
  // never a regular file someone pointed us at by mistake.
  struct stat st{};
  if (::lstat(addr.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(addr.path.c_str());

  core::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw bind_error(addr, "socket", errno);
  set_common_options(fd.get(), settings, false);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0)
    throw bind_error(addr, "bind", errno);
  if (::listen(fd.get(), settings.backlog) != 0) throw bind_error(addr, "listen", errno);
  return Listener{std::move(fd), addr, true};
}

Listener adopt_fd(const config::BindAddress& addr) {
  int fd = addr.fd;
  int type = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
    throw std::runtime_error("cannot listen at " + addr.original + ": not a stream socket");
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  sockaddr_storage ss{};
  socklen_t sl = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &sl);
  return Listener{core::UniqueFd(fd), addr, ss.ss_family == AF_UNIX};
}

}  // namespace

std::vector<Listener> bind_listeners(const config::Settings& settings) {
  std::vector<Listener> out;
  for (const auto& addr : settings.bind) {
    switch (addr.kind) {
      case config::BindAddress::Kind::Tcp: out.push_back(bind_tcp(addr, settings)); break;
      case config::BindAddress::Kind::Unix: out.push_back(bind_unix(addr, settings)); break;
      case config::BindAddress::Kind::Fd: out.push_back(adopt_fd(addr)); break;
    }
  }
  return out;
}

}  // namespace gthreadd::net
