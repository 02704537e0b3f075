#pragma once
// How the WSGI runner puts bytes on the wire. Implemented by the worker over a connected
// socket. send() and send_file() are called WITHOUT the GIL held (they may block);
// send_nowait() is called WITH it, and must never wait.
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>

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
  // The worker answered this request itself instead of the app (--request-timeout's 504):
  // that status, and its body bytes in `*body_bytes`, for the access log; 0 when it did not.
  virtual int server_answer(std::uint64_t* /*body_bytes*/) { return 0; }
};

}  // namespace gthreadd::wsgi
