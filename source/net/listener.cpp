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
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <thread>

namespace gthreadd::net {
namespace {

// One failed attempt at an address; `err` decides which of gunicorn's messages is logged.
class BindFailure : public std::runtime_error {
 public:
  BindFailure(const std::string& what, int err) : std::runtime_error(what), err(err) {}
  int err;
};

BindFailure bind_error(const config::BindAddress& addr, const char* what, int err) {
  return BindFailure("cannot listen at " + addr.original + ": " + what + ": " + std::strerror(err),
                     err);
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
    throw BindFailure("cannot listen at " + addr.original + ": " + ::gai_strerror(rc), 0);
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, ::freeaddrinfo);

  int last_errno = 0;
  const char* last_step = "socket";
  for (addrinfo* ai = found; ai; ai = ai->ai_next) {
    core::UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
      last_errno = errno;
      last_step = "socket";
      continue;
    }
    set_common_options(fd.get(), settings, true);
    if (ai->ai_family == AF_INET6) {
      int one = 1;  // "[::]:8000" means IPv6 only, as gunicorn does
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      last_errno = errno;
      last_step = "bind";
      continue;
    }
    if (::listen(fd.get(), settings.backlog) != 0) {
      last_errno = errno;
      last_step = "listen";
      continue;
    }
    Listener l{std::move(fd), addr, false};
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    if (::getsockname(l.fd.get(), reinterpret_cast<sockaddr*>(&bound), &len) == 0) {
      l.address.port =
          ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
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
    throw BindFailure("cannot listen at " + addr.original + ": path too long", ENAMETOOLONG);
  std::memcpy(sun.sun_path, addr.path.c_str(), addr.path.size() + 1);
  // A socket file left by a previous run would make bind fail; only a socket is removed,
  // never a regular file someone pointed us at by mistake.
  struct stat st {};
  if (::lstat(addr.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(addr.path.c_str());

  core::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw bind_error(addr, "socket", errno);
  set_common_options(fd.get(), settings, false);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0)
    throw bind_error(addr, "bind", errno);
  if (::listen(fd.get(), settings.backlog) != 0) throw bind_error(addr, "listen", errno);
  return Listener{std::move(fd), addr, true};
}

// An inherited or fd://N socket: describe it by what it is bound to, so "Listening at"
// and SERVER_NAME/SERVER_PORT say the real address.
Listener adopt_fd(int fd, const std::string& original) {
  config::BindAddress addr;
  addr.kind = config::BindAddress::Kind::Fd;
  addr.fd = fd;
  addr.original = original;
  int type = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
    throw std::runtime_error("cannot listen at " + original + ": not a stream socket");
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  sockaddr_storage ss{};
  socklen_t sl = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &sl);
  char text[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
    addr.kind = config::BindAddress::Kind::Tcp;
    addr.host = text;
    addr.port = ntohs(sin->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
    addr.kind = config::BindAddress::Kind::Tcp;
    addr.host = text;
    addr.port = ntohs(sin6->sin6_port);
  } else if (ss.ss_family == AF_UNIX) {
    auto* sun = reinterpret_cast<sockaddr_un*>(&ss);
    addr.kind = config::BindAddress::Kind::Unix;
    addr.path = sun->sun_path;
  }
  Listener l{core::UniqueFd(fd), addr, ss.ss_family == AF_UNIX};
  // Not ours to unlink at exit: whoever bound it owns the file.
  l.inherited = true;
  return l;
}

std::vector<int> parse_fd_list(const char* text) {
  std::vector<int> fds;
  std::string item;
  for (const char* p = text;; ++p) {
    if (*p == ',' || *p == '\0') {
      if (!item.empty()) {
        char* end = nullptr;
        long v = std::strtol(item.c_str(), &end, 10);
        if (*end != '\0' || v < 0 || v > 65535)
          throw std::runtime_error(std::string("bad inherited fd list: ") + text);
        fds.push_back(static_cast<int>(v));
      }
      item.clear();
      if (*p == '\0') break;
    } else {
      item.push_back(*p);
    }
  }
  return fds;
}

Listener bind_one(const config::BindAddress& addr, const config::Settings& settings) {
  return addr.kind == config::BindAddress::Kind::Unix ? bind_unix(addr, settings)
                                                      : bind_tcp(addr, settings);
}

// gunicorn's create_sockets loop: every failure is retried (not only EADDRINUSE), logging
// "Connection in use"/"Invalid address" for those two errors and "Retrying in 1 second."
// after each attempt, the last one included. Other errors say why at error level too
// (gunicorn logs them at debug only, which leaves a failing start unexplained).
Listener bind_with_retry(const config::BindAddress& addr, const config::Settings& settings,
                         const BindRetry& retry) {
  const std::string name = gunicorn_address_text(addr);
  auto log = [&](bool debug, const std::string& message) {
    if (retry.log) retry.log(debug, message);
  };
  for (int attempt = 0; attempt < retry.attempts; ++attempt) {
    try {
      return bind_one(addr, settings);
    } catch (const BindFailure& e) {
      if (e.err == EADDRINUSE) {
        log(false, "Connection in use: " + name);
      } else if (e.err == EADDRNOTAVAIL) {
        log(false, "Invalid address: " + name);
      } else {
        log(false, e.what());
      }
      if (e.err != 0) {
        log(true, "connection to " + name + " failed: [Errno " + std::to_string(e.err) + "] " +
                      std::strerror(e.err));
      }
      log(false, "Retrying in 1 second.");
      std::this_thread::sleep_for(std::chrono::milliseconds(retry.delay_ms));
    }
  }
  throw std::runtime_error("Can't connect to " + name);
}

}  // namespace

std::string gunicorn_address_text(const config::BindAddress& addr) {
  switch (addr.kind) {
    case config::BindAddress::Kind::Unix: return addr.path;
    case config::BindAddress::Kind::Fd: return std::to_string(addr.fd);
    case config::BindAddress::Kind::Tcp: break;
  }
  return "('" + addr.host + "', " + std::to_string(addr.port) + ")";
}

std::vector<Listener> inherited_listeners() {
  std::vector<Listener> out;
  // USR2 upgrade: the old master hands its sockets over (GTHREADD_FD; GUNICORN_FD too, so
  // a gunicorn master can be upgraded to gthreadd in place).
  for (const char* name : {kInheritedFdsEnv, "GUNICORN_FD"}) {
    if (const char* fds = std::getenv(name); fds && *fds) {
      for (int fd : parse_fd_list(fds)) out.push_back(adopt_fd(fd, std::string(name) + "=" + fds));
      ::unsetenv(name);
      return out;
    }
  }
  // systemd socket activation (sd_listen_fds(3)): fds 3.. when LISTEN_PID is us.
  const char* pid = std::getenv("LISTEN_PID");
  const char* count = std::getenv("LISTEN_FDS");
  if (pid && count && std::strtol(pid, nullptr, 10) == ::getpid()) {
    long n = std::strtol(count, nullptr, 10);
    for (long i = 0; i < n; ++i)
      out.push_back(adopt_fd(3 + static_cast<int>(i), "systemd socket " + std::to_string(3 + i)));
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
  }
  return out;
}

std::vector<Listener> bind_listeners(const config::Settings& settings, BindRetry retry) {
  std::vector<Listener> out;
  if (auto inherited = inherited_listeners(); !inherited.empty()) return inherited;
  for (const auto& addr : settings.bind) {
    switch (addr.kind) {
      case config::BindAddress::Kind::Tcp:
      case config::BindAddress::Kind::Unix:
        out.push_back(bind_with_retry(addr, settings, retry));
        break;
      case config::BindAddress::Kind::Fd: out.push_back(adopt_fd(addr.fd, addr.original)); break;
    }
  }
  return out;
}

}  // namespace gthreadd::net
