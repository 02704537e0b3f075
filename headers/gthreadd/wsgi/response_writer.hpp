#pragma once
// How the WSGI runner puts bytes on the wire. Implemented by the worker over a connected
// socket. send() and send_file() are called WITHOUT the GIL held (they may block);
// send_nowait(), send_file_nowait() and parking() are called WITH it, and never wait.
//
// A writer that parks (parking() not null) never blocks: what the socket does not take goes
// to its ParkedBytes, for the event loop to write, and every later byte of the response
// follows it there until the loop has written it all (docs/architecture.md, "Parked
// responses").
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "gthreadd/wsgi/parked_bytes.hpp"

namespace gthreadd::wsgi {

class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  // Sends every byte of `iov` (handles partial writes and EAGAIN with a send deadline).
  // Returns false if the peer went away or the deadline passed; the runner then stops.
  virtual bool send(std::span<const iovec> iov) = 0;
  // Sends `count` bytes of `fd` from `offset` with sendfile(2). False as for send().
  virtual bool send_file(int fd, off_t offset, std::size_t count) = 0;
  // Sends what the socket takes right now, without waiting: the byte count sent (0 when
  // it would block, or when the writer cannot tell), or -1 if the peer went away. Lets
  // the runner skip a GIL release and re-acquire when the kernel has room (the common
  // case), which on a busy worker costs a hand-off to another thread and back.
  virtual ssize_t send_nowait(std::span<const iovec> /*iov*/) { return 0; }
  // As send_nowait, for sendfile(2): the byte count sent from `offset` (0 when it would
  // block or after bytes were parked), -1 if the peer went away or the file ended early.
  virtual ssize_t send_file_nowait(int /*fd*/, off_t /*offset*/, std::size_t /*count*/) {
    return 0;
  }
  // Where the bytes the socket did not take go, or null when this writer waits instead.
  virtual ParkedBytes* parking() noexcept { return nullptr; }
  // The worker answered this request itself instead of the app (--request-timeout's 504):
  // that status, and its body bytes in `*body_bytes`, for the access log; 0 when it did not.
  virtual int server_answer(std::uint64_t* /*body_bytes*/) { return 0; }
};

}  // namespace gthreadd::wsgi
