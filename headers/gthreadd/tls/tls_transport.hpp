#pragma once
// The TLS implementation of the worker's Transport seam: the HTTP code reads and writes
// plaintext through it exactly as through SocketTransport. Non-blocking throughout: the
// server handshake is driven by the first reads (the event loop's, at accept and on each
// readiness event), and OpenSSL's WANT_READ / WANT_WRITE become WouldBlock plus
// wants_write(), which the loop turns into epoll interest (EventLoop::arm). The handshake
// therefore runs under the connection's header deadline and never on a pool thread.
//
// Threads: as every Transport, used by whichever thread owns the connection, never by two
// at once. OpenSSL's error queue is per thread: every call clears it first.
#include <array>
#include <cstddef>

#include "gthreadd/worker/transport.hpp"

struct ssl_st;
struct ssl_ctx_st;

namespace gthreadd::tls {

class TlsTransport final : public worker::Transport {
 public:
  // Takes a new SSL object from `ctx` (server side) over `fd`, which it does not own.
  // Check ok() before use: false when OpenSSL could not allocate.
  TlsTransport(ssl_ctx_st* ctx, int fd, bool suppress_ragged_eofs) noexcept;
  ~TlsTransport() override;  // sends close_notify when the session is still sound
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  [[nodiscard]] bool ok() const noexcept { return ssl_ != nullptr; }
  [[nodiscard]] int fd() const noexcept override { return fd_; }
  worker::IoResult read(std::span<char> into) noexcept override;
  worker::IoResult probe_end() noexcept override;
  worker::IoResult writev(std::span<const iovec> iov) noexcept override;
  worker::IoResult sendfile(int file, off_t* offset, std::size_t count) noexcept override;
  void shutdown_write() noexcept override;
  [[nodiscard]] bool wants_write() const noexcept override { return want_write_; }
  [[nodiscard]] bool buffered() const noexcept override;
  [[nodiscard]] bool secure() const noexcept override { return true; }

  // Whether the kernel took over the record layer for sending (kTLS): sendfile is then
  // SSL_sendfile, zero-copy. Known once the handshake is done.
  [[nodiscard]] bool kernel_tls() const noexcept { return ktls_send_; }

 private:
  worker::IoResult handshake() noexcept;
  worker::IoResult failed(int ssl_error, int rc) noexcept;
  worker::IoResult write_bytes(const char* data, std::size_t size) noexcept;

  ssl_st* ssl_ = nullptr;
  int fd_;
  bool suppress_ragged_eofs_;
  bool handshake_done_ = false;
  bool want_write_ = false;
  bool broken_ = false;         // a fatal TLS or socket error: no close_notify may follow
  bool sent_shutdown_ = false;  // close_notify already sent
  bool ktls_send_ = false;
  worker::IoResult sticky_{};  // an end seen after bytes a read returned: the next read's
  bool has_sticky_ = false;
  // Gathers a small writev into one record, and holds file bytes when kTLS is off. OpenSSL
  // may be retried with equal bytes from another address (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER).
  std::array<char, 16 * 1024> scratch_{};
};

}  // namespace gthreadd::tls
