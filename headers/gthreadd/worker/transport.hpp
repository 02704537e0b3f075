#pragma once
// Where a connection's bytes go in and out: the one seam between the HTTP code and the
// socket. The plain socket is the first implementation; TLS (tls::TlsTransport) the second,
// and the HTTP code (http_connection, socket_writer) does not change for it. Every call is
// non-blocking and retries EINTR itself; waiting is the caller's business (epoll on the
// loop, a bounded poll in send_final_answer). One virtual call per system call, never per byte.
//
// Threads: a connection's transport is used by whichever thread owns the connection (the
// loop, or the pool thread running its request), never by two at once.
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <span>
#include <string_view>

namespace gthreadd::worker {

enum class IoStatus {
  Ok,          // `bytes` moved (a read's 0 bytes means the room was empty)
  WouldBlock,  // nothing now; wait for readiness
  Eof,         // reads: the peer's FIN, every byte it sent already read
  Error,       // the peer went away or reset; `error` has the errno
};

struct IoResult {
  IoStatus status = IoStatus::Ok;
  std::size_t bytes = 0;
  int error = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  [[nodiscard]] virtual int fd() const noexcept = 0;  // what epoll and poll wait on
  virtual IoResult read(std::span<char> into) noexcept = 0;
  // Whether the peer closed (Eof) or reset (Error) behind the bytes already read, without
  // consuming anything: WouldBlock when it did neither, Ok when bytes are waiting.
  virtual IoResult probe_end() noexcept = 0;
  virtual IoResult writev(std::span<const iovec> iov) noexcept = 0;
  // `count` bytes of `file` from `*offset` (advanced by what was sent).
  virtual IoResult sendfile(int file, off_t* offset, std::size_t count) noexcept = 0;
  virtual void shutdown_write() noexcept = 0;
  // TLS (tls::TlsTransport): the handshake or a read needs the socket writable, so the loop
  // waits for EPOLLOUT too; bytes already taken from the socket and not yet read, which no
  // epoll edge will announce, so the loop reads again without waiting; wsgi.url_scheme.
  [[nodiscard]] virtual bool wants_write() const noexcept { return false; }
  [[nodiscard]] virtual bool buffered() const noexcept { return false; }
  [[nodiscard]] virtual bool secure() const noexcept { return false; }
};

// The plain TCP or unix socket. Does not own the fd: the Connection does.
class SocketTransport final : public Transport {
 public:
  explicit SocketTransport(int fd) noexcept : fd_(fd) {}
  [[nodiscard]] int fd() const noexcept override { return fd_; }
  IoResult read(std::span<char> into) noexcept override;
  IoResult probe_end() noexcept override;
  IoResult writev(std::span<const iovec> iov) noexcept override;
  IoResult sendfile(int file, off_t* offset, std::size_t count) noexcept override;
  void shutdown_write() noexcept override;

 private:
  int fd_;
};

// A server's last words on a connection (a 503 for a request no thread will start, a 504
// past --request-timeout): writes `text`, waiting at most `max_waits` x 100 ms for room, then
// shuts the write side. A client that reads nothing loses the answer, never the caller's
// time beyond that bound.
void send_final_answer(Transport& io, std::string_view text, int max_waits) noexcept;

}  // namespace gthreadd::worker
