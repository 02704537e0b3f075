#include "gthreadd/worker/socket_writer.hpp"

#include <array>
#include <string_view>

#include "gthreadd/core/assert.hpp"

namespace gthreadd::worker {

namespace {

// One writev of iov[index..] (at most 64 pieces), the first `skip` bytes of iov[index]
// already sent.
IoResult write_from(Transport& io, std::span<const iovec> iov, std::size_t index,
                    std::size_t skip) noexcept {
  constexpr std::size_t kMaxIov = 64;
  std::array<iovec, kMaxIov> local{};
  std::size_t n = 0;
  for (std::size_t i = index; i < iov.size() && n < kMaxIov; ++i, ++n) local[n] = iov[i];
  local[0].iov_base = static_cast<char*>(local[0].iov_base) + skip;
  local[0].iov_len -= skip;
  return io.writev(std::span<const iovec>(local.data(), n));
}

// Moves (index, skip) past `sent` bytes.
void advance(std::span<const iovec> iov, std::size_t& index, std::size_t& skip, std::size_t sent) {
  std::size_t left = sent + skip;
  while (index < iov.size() && left >= iov[index].iov_len) left -= iov[index++].iov_len;
  skip = index < iov.size() ? left : 0;
}

}  // namespace

bool SocketWriter::send(std::span<const iovec> iov) {
  if (gate_ && !gate_->may_send()) return false;
  std::size_t index = 0;
  std::size_t skip = 0;  // bytes of iov[index] already sent
  // Whatever is already parked goes first: bytes written ahead of it would be misordered.
  while (park_.empty() && index < iov.size()) {
    const IoResult r = write_from(transport_, iov, index, skip);
    if (r.status == IoStatus::WouldBlock) break;
    if (r.status != IoStatus::Ok) return false;
    advance(iov, index, skip, r.bytes);
  }
  for (; index < iov.size(); ++index, skip = 0)
    park_.add_copy(std::string_view(static_cast<const char*>(iov[index].iov_base) + skip,
                                    iov[index].iov_len - skip));
  return true;
}

ssize_t SocketWriter::send_nowait(std::span<const iovec> iov) {
  if (gate_ && !gate_->may_send()) return -1;
  if (!park_.empty()) return 0;  // behind what is parked, never ahead of it
  const IoResult r = transport_.writev(iov);
  if (r.status == IoStatus::Ok) return static_cast<ssize_t>(r.bytes);
  return r.status == IoStatus::WouldBlock ? 0 : -1;
}

ssize_t SocketWriter::send_file_nowait(int in_fd, off_t offset, std::size_t count) {
  if (gate_ && !gate_->may_send()) return -1;
  if (!park_.empty()) return 0;
  std::size_t sent = 0;
  while (sent < count) {
    const IoResult r = transport_.sendfile(in_fd, &offset, count - sent);
    if (r.status == IoStatus::WouldBlock) break;
    if (r.status != IoStatus::Ok || r.bytes == 0) return -1;  // gone, or the file ended early
    sent += r.bytes;
  }
  return static_cast<ssize_t>(sent);
}

bool SocketWriter::send_file(int in_fd, off_t offset, std::size_t count) {
  const ssize_t sent = send_file_nowait(in_fd, offset, count);
  if (sent < 0) return false;
  const auto done = static_cast<std::size_t>(sent);
  // ParkedBytes holds one file: a second would replace the first's unwritten rest.
  GTHREADD_ASSERT(done == count || park_.count == 0, "a second file parked behind the first");
  park_.add_file(in_fd, offset + static_cast<off_t>(done), count - done);
  return true;
}

}  // namespace gthreadd::worker
