#include "gthreadd/worker/transport.hpp"

#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>

namespace gthreadd::worker {
namespace {

IoResult failure(int error) noexcept {
  if (error == EAGAIN || error == EWOULDBLOCK) return {IoStatus::WouldBlock, 0, 0};
  return {IoStatus::Error, 0, error};
}

}  // namespace

IoResult SocketTransport::read(std::span<char> into) noexcept {
  for (;;) {
    const ssize_t n = ::recv(fd_, into.data(), into.size(), 0);
    if (n > 0) return {IoStatus::Ok, static_cast<std::size_t>(n), 0};
    if (n == 0) return {into.empty() ? IoStatus::Ok : IoStatus::Eof, 0, 0};
    if (errno != EINTR) return failure(errno);
  }
}

IoResult SocketTransport::probe_end() noexcept {
  char probe;
  for (;;) {
    const ssize_t n = ::recv(fd_, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return {IoStatus::Ok, 0, 0};
    if (n == 0) return {IoStatus::Eof, 0, 0};
    if (errno != EINTR) return failure(errno);
  }
}

IoResult SocketTransport::writev(std::span<const iovec> iov) noexcept {
  // sendmsg rather than writev: MSG_NOSIGNAL turns a vanished peer into EPIPE, not SIGPIPE.
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov.data());
  msg.msg_iovlen = std::min<std::size_t>(iov.size(), IOV_MAX);
  for (;;) {
    const ssize_t sent = ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent >= 0) return {IoStatus::Ok, static_cast<std::size_t>(sent), 0};
    if (errno != EINTR) return failure(errno);
  }
}

IoResult SocketTransport::sendfile(int file, off_t* offset, std::size_t count) noexcept {
  for (;;) {
    const ssize_t sent = ::sendfile(fd_, file, offset, count);
    if (sent >= 0) return {IoStatus::Ok, static_cast<std::size_t>(sent), 0};
    if (errno != EINTR) return failure(errno);
  }
}

void SocketTransport::shutdown_write() noexcept { ::shutdown(fd_, SHUT_WR); }

void send_final_answer(Transport& io, std::string_view text, int max_waits) noexcept {
  std::size_t sent = 0;
  for (int waits = 0; sent < text.size() && waits < max_waits;) {
    const iovec iov{const_cast<char*>(text.data() + sent), text.size() - sent};
    const IoResult r = io.writev(std::span<const iovec>(&iov, 1));
    if (r.status == IoStatus::Ok) {
      sent += r.bytes;
    } else if (r.status == IoStatus::WouldBlock) {
      pollfd p{io.fd(), POLLOUT, 0};
      ::poll(&p, 1, 100);
      ++waits;
    } else {
      break;
    }
  }
  io.shutdown_write();
}

}  // namespace gthreadd::worker
