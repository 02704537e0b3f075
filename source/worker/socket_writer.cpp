#include "gthreadd/worker/socket_writer.hpp"

#include <poll.h>

#include <algorithm>
#include <array>
#include <cerrno>

namespace gthreadd::worker {

bool SocketWriter::wait_writable() {
  pollfd p{transport_.fd(), POLLOUT, 0};
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
  if (gate_ && !gate_->may_send()) return false;
  constexpr std::size_t kMaxIov = 64;
  std::array<iovec, kMaxIov> local{};
  std::size_t index = 0;
  std::size_t skip = 0;  // bytes of iov[index] already sent
  while (index < iov.size()) {
    std::size_t n = 0;
    for (std::size_t i = index; i < iov.size() && n < kMaxIov; ++i, ++n) local[n] = iov[i];
    local[0].iov_base = static_cast<char*>(local[0].iov_base) + skip;
    local[0].iov_len -= skip;
    const IoResult r = transport_.writev(std::span<const iovec>(local.data(), n));
    if (r.status == IoStatus::WouldBlock) {
      if (!wait_writable()) return false;
      continue;
    }
    if (r.status != IoStatus::Ok) return false;
    std::size_t left = r.bytes;
    while (index < iov.size()) {
      std::size_t avail = iov[index].iov_len - skip;
      if (left < avail) {
        skip += left;
        break;
      }
      left -= avail;
      skip = 0;
      ++index;
    }
  }
  return true;
}

ssize_t SocketWriter::send_nowait(std::span<const iovec> iov) {
  if (gate_ && !gate_->may_send()) return -1;
  const IoResult r = transport_.writev(iov);
  if (r.status == IoStatus::Ok) return static_cast<ssize_t>(r.bytes);
  return r.status == IoStatus::WouldBlock ? 0 : -1;
}

bool SocketWriter::send_file(int in_fd, off_t offset, std::size_t count) {
  if (gate_ && !gate_->may_send()) return false;
  while (count > 0) {
    const IoResult r = transport_.sendfile(in_fd, &offset, count);
    if (r.status == IoStatus::WouldBlock) {
      if (!wait_writable()) return false;
      continue;
    }
    if (r.status != IoStatus::Ok) return false;
    if (r.bytes == 0) return false;  // file shorter than promised: the body is incomplete
    count -= r.bytes;
  }
  return true;
}

}  // namespace gthreadd::worker
