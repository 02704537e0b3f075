#include "gthreadd/log/stream_sender.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace gthreadd::log {
namespace {

constexpr std::chrono::milliseconds kWriteWait{100};    // per message, for room to write
constexpr std::chrono::milliseconds kConnectWait{100};  // a reconnect from a logging thread
constexpr std::chrono::seconds kRetryPeriod{1};

bool wait_writable(int fd, std::chrono::milliseconds wait) noexcept {
  pollfd p{fd, POLLOUT, 0};
  int rc;
  do rc = ::poll(&p, 1, static_cast<int>(wait.count()));
  while (rc < 0 && errno == EINTR);
  return rc == 1 && (p.revents & (POLLERR | POLLHUP)) == 0;
}

// A non-blocking stream socket connected to `address` within `wait`, or an empty fd (errno
// set).
core::UniqueFd connect_to(const sockaddr* address, socklen_t length,
                          std::chrono::milliseconds wait) noexcept {
  core::UniqueFd fd(::socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return fd;
  if (::connect(fd.get(), address, length) == 0) return fd;
  if (errno != EINPROGRESS) return core::UniqueFd();
  int error = ETIMEDOUT;
  socklen_t size = sizeof error;
  if (wait_writable(fd.get(), wait)) ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &size);
  if (error == 0) return fd;
  errno = error;
  return core::UniqueFd();
}

}  // namespace

StreamSender::StreamSender(const sockaddr* address, socklen_t length, std::string name)
    : length_(length), name_(std::move(name)) {
  std::memcpy(&address_, address, length);
  // At start-up a collector gets longer than a logging thread would wait later.
  fd_ = connect_to(address, length, std::chrono::seconds(5));
  if (!fd_) throw std::runtime_error("cannot connect to " + name_ + ": " + std::strerror(errno));
  last_attempt_ = std::chrono::steady_clock::now();
}

StreamSender::StreamSender(StreamSender&& other) noexcept
    : address_(other.address_),
      length_(other.length_),
      name_(std::move(other.name_)),
      fd_(std::move(other.fd_)),
      last_attempt_(other.last_attempt_) {}

StreamSender StreamSender::tcp(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
    throw std::runtime_error("cannot resolve " + host + ":" + port + ": " + ::gai_strerror(rc));
  std::string last_error = "no address";
  for (addrinfo* ai = found; ai; ai = ai->ai_next) {
    try {
      StreamSender sender(ai->ai_addr, ai->ai_addrlen, "tcp://" + host + ":" + port);
      ::freeaddrinfo(found);
      return sender;
    } catch (const std::runtime_error& e) {
      last_error = e.what();
    }
  }
  ::freeaddrinfo(found);
  throw std::runtime_error(last_error);
}

StreamSender StreamSender::unix_path(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    throw std::runtime_error("unix socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return StreamSender(reinterpret_cast<const sockaddr*>(&addr), sizeof addr, "unix://" + path);
}

bool StreamSender::reconnect() noexcept {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_attempt_ < kRetryPeriod) return false;
  last_attempt_ = now;
  fd_ = connect_to(reinterpret_cast<const sockaddr*>(&address_), length_, kConnectWait);
  return static_cast<bool>(fd_);
}

bool StreamSender::write_all(std::string_view message) noexcept {
  const auto deadline = std::chrono::steady_clock::now() + kWriteWait;
  while (!message.empty()) {
    const ssize_t n = ::send(fd_.get(), message.data(), message.size(), MSG_NOSIGNAL);
    if (n > 0) {
      message.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() > 0 && wait_writable(fd_.get(), left)) continue;
    }
    return false;
  }
  return true;
}

void StreamSender::send(std::string_view message) noexcept {
  std::lock_guard lock(mutex_);
  if (!fd_ && !reconnect()) return;
  if (!write_all(message)) fd_.reset();  // the stream may hold part of it: start afresh
}

}  // namespace gthreadd::log
