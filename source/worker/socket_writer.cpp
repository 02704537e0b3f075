#include "gthreadd/worker/socket_writer.hpp"

#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cerrno>

namespace gthreadd::worker {

bool SocketWriter::wait_writable() {
  pollfd p{fd_, POLLOUT, 0};
  for (;;) {
    int rc = ::poll(&p, 1, static_cast<int>(timeout_.count()));
    if (rc > 0) return (p.revents & (POLLERR | POLLHUP | POLLNVAL)) == 0 || (p.revents & POLLOUT);
    if (rc == 0) {  // no progress for the whole send timeout
      timed_out_ = true;
      return false;
    }
    if (errno != EINTR) return false;
  }
}

bool SocketWriter::send(std::span<const iovec> iov) {
  // sendmsg rather than writev: MSG_NOSIGNAL turns a vanished peer into EPIPE, not SIGPIPE.
  constexpr std::size_t kMaxIov = 64;
  std::array<iovec, kMaxIov> local{};
  std::size_t index = 0;
  std::size_t skip = 0;  // bytes of iov[index] already sent
  while (index < iov.size()) {
    std::size_t n = 0;
    for (std::size_t i = index; i < iov.size() && n < kMaxIov; ++i, ++n) local[n] = iov[i];
    local[0].iov_base = static_cast<char*>(local[0].iov_base) + skip;
    local[0].iov_len -= skip;
    msghdr msg{};
    msg.msg_iov = local.data();
    msg.msg_iovlen = n;
    ssize_t sent = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!wait_writable()) return false;
        continue;
      }
      return false;
    }
    auto left = static_cast<std::size_t>(sent);
    while (index < iov.size()) {
      std::size_t avail = iov[index].iov_len - skip;
      if (left < avail) { skip += left; break; }
      left -= avail;
      skip = 0;
      ++index;
    }
  }
  return true;
}

ssize_t SocketWriter::send_nowait(std::span<const iovec> iov) {
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov.data());
  msg.msg_iovlen = std::min<std::size_t>(iov.size(), IOV_MAX);
  for (;;) {
    const ssize_t sent = ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent >= 0) return sent;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return -1;
  }
}

bool SocketWriter::send_file(int in_fd, off_t offset, std::size_t count) {
  while (count > 0) {
    ssize_t sent = ::sendfile(fd_, in_fd, &offset, count);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        if (!wait_writable()) return false;
        continue;
      }
      return false;
    }
    if (sent == 0) return false;  // file shorter than promised: the body is incomplete
    count -= static_cast<std::size_t>(sent);
  }
  return true;
}

}  // namespace gthreadd::worker
