#pragma once
// A response's bytes the socket would not take, left for the event loop to write (without
// the GIL) so that no pool thread waits on a slow client (docs/architecture.md, "Parked
// responses"). Written in order: `iov`, then `count` bytes of `file` from `offset`
// (wsgi.file_wrapper), then `after_file` (a chunked body's end).
//
// Bounded: a response parks at the first write the socket does not take, and its iterator
// is not advanced again until all of this is written, so what is parked is at most one
// flush (one yielded block, or the body the app already holds as a list) plus the head.
// Pieces of Python bytes objects are referenced, not copied (the stream keeps those
// objects alive until it is resumed); everything else is copied into `owned`.
//
// Threads: filled by the pool thread running the request, written out by the loop thread
// once the connection came back; never both at once (the connection's hand-off orders them).
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace gthreadd::wsgi {

struct ParkedBytes {
  std::vector<iovec> iov;
  std::size_t next = 0;  // iov[next] is the first piece not fully written
  int file = -1;
  off_t offset = 0;
  std::size_t count = 0;
  std::vector<iovec> after_file;
  std::size_t after_next = 0;
  std::deque<std::string> owned;  // a deque: appending never moves what iovecs point at

  // Bytes not written yet.
  [[nodiscard]] std::uint64_t remaining() const noexcept {
    std::uint64_t left = count;
    for (std::size_t i = next; i < iov.size(); ++i) left += iov[i].iov_len;
    for (std::size_t i = after_next; i < after_file.size(); ++i) left += after_file[i].iov_len;
    return left;
  }
  [[nodiscard]] bool empty() const noexcept {
    return next == iov.size() && count == 0 && after_next == after_file.size();
  }
  // A piece whose storage outlives the parking (a bytes object the stream keeps).
  void add_ref(const void* data, std::size_t len) {
    if (len == 0) return;
    queue().push_back(iovec{const_cast<void*>(data), len});
  }
  // A piece copied now (a head, a chunk-size line, a small answer built on the stack).
  void add_copy(std::string_view bytes) {
    if (bytes.empty()) return;
    owned.emplace_back(bytes);
    queue().push_back(iovec{owned.back().data(), owned.back().size()});
  }
  // The rest of the body from a regular file; what is added after it follows the file.
  void add_file(int fd, off_t from, std::size_t len) {
    if (len == 0) return;
    file = fd;
    offset = from;
    count = len;
  }
  void clear() noexcept {
    iov.clear();
    after_file.clear();
    next = after_next = 0;
    file = -1;
    offset = 0;
    count = 0;
    owned.clear();
  }

 private:
  std::vector<iovec>& queue() { return count > 0 || !after_file.empty() ? after_file : iov; }
};

}  // namespace gthreadd::wsgi
