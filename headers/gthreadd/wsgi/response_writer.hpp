#pragma once
// How the WSGI runner puts bytes on the wire. Implemented by the worker over a connected
// socket. Always called WITHOUT the GIL held: the runner releases it around every call.
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
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
};

}  // namespace gthreadd::wsgi
