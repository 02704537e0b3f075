#include "gthreadd/tls/tls_transport.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace gthreadd::tls {
namespace {

using worker::IoResult;
using worker::IoStatus;

constexpr IoResult kWouldBlock{IoStatus::WouldBlock, 0, 0};
// One SSL_write call's worth of a large buffer: with partial writes on, OpenSSL returns
// after what the socket took, so this only bounds the records built per call.
constexpr std::size_t kMaxWrite = 256 * 1024;

bool unexpected_eof() noexcept {
  const unsigned long e = ERR_peek_error();
  return e != 0 && ERR_GET_LIB(e) == ERR_LIB_SSL &&
         ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

std::string last_error_text() {
  const unsigned long e = ERR_peek_error();
  if (e == 0) return "connection closed";
  char text[256];
  ERR_error_string_n(e, text, sizeof text);
  return text;
}

}  // namespace

TlsTransport::TlsTransport(ssl_ctx_st* ctx, int fd, bool suppress_ragged_eofs) noexcept
    : fd_(fd), suppress_ragged_eofs_(suppress_ragged_eofs) {
  ssl_ = SSL_new(ctx);
  if (ssl_ == nullptr) return;
  if (SSL_set_fd(ssl_, fd) != 1) {
    SSL_free(ssl_);
    ssl_ = nullptr;
    return;
  }
  SSL_set_accept_state(ssl_);
}

TlsTransport::~TlsTransport() {
  if (ssl_ == nullptr) return;
  // close_notify (RFC 8446 6.1): the client learns the response ended where it did, not
  // at a truncation. Best effort and non-blocking: the fd closes right after.
  if (handshake_done_ && !broken_ && !sent_shutdown_) {
    ERR_clear_error();
    SSL_shutdown(ssl_);
  }
  SSL_free(ssl_);
  ERR_clear_error();
}

IoResult TlsTransport::failed(int ssl_error, int rc) noexcept {
  // WANT_WRITE: the peer's data is stuck behind our own flight; the loop waits for EPOLLOUT.
  if (ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE) {
    want_write_ = ssl_error == SSL_ERROR_WANT_WRITE;
    return kWouldBlock;
  }
  if (ssl_error == SSL_ERROR_ZERO_RETURN) return {IoStatus::Eof, 0, 0};  // close_notify
  const int saved = errno;
  broken_ = true;
  // The peer's FIN without close_notify (OpenSSL 3 reports it as an SSL error, 1.1 as a
  // syscall error with errno 0). Python's suppress_ragged_eofs, gunicorn's default, reads
  // it as the end of the stream; without it the connection fails.
  const bool ragged = unexpected_eof() || (ssl_error == SSL_ERROR_SYSCALL && rc == 0);
  if (ragged) {
    ERR_clear_error();
    if (suppress_ragged_eofs_) return {IoStatus::Eof, 0, 0};
    spdlog::debug("TLS: the client closed without close_notify (suppress_ragged_eofs off)");
    return {IoStatus::Error, 0, ECONNABORTED};
  }
  if (ssl_error == SSL_ERROR_SYSCALL && saved != 0) {
    ERR_clear_error();
    if (saved == EAGAIN) {
      broken_ = false;
      return kWouldBlock;
    }
    return {IoStatus::Error, 0, saved};
  }
  // gunicorn logs TLS errors of a connection at debug level ("Error processing SSL request").
  spdlog::debug("TLS error{}: {}", handshake_done_ ? "" : " in the handshake", last_error_text());
  ERR_clear_error();
  return {IoStatus::Error, 0, EPROTO};
}

IoResult TlsTransport::handshake() noexcept {
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    handshake_done_ = true;
    want_write_ = false;
#ifndef OPENSSL_NO_KTLS
    ktls_send_ = BIO_get_ktls_send(SSL_get_wbio(ssl_)) != 0;
#endif
    // Once per worker, so `--log-level debug` tells whether file responses are zero-copy.
    static std::atomic<bool> said{false};
    if (!said.exchange(true, std::memory_order_relaxed))
      spdlog::debug("TLS: first handshake done ({}, {}): kernel TLS for sending {}",
                    SSL_get_version(ssl_), SSL_get_cipher_name(ssl_),
                    ktls_send_ ? "on: sendfile is SSL_sendfile"
                               : "off: files are read and encrypted in 16 KiB records");
    return {IoStatus::Ok, 0, 0};
  }
  return failed(SSL_get_error(ssl_, rc), rc);
}

IoResult TlsTransport::read(std::span<char> into) noexcept {
  if (has_sticky_) {
    has_sticky_ = false;
    return sticky_;
  }
  if (!handshake_done_) {
    const IoResult h = handshake();
    if (h.status != IoStatus::Ok) return h;
  }
  // Fill `into` across records until OpenSSL needs the socket: a short read then means the
  // socket was drained, which the HTTP code relies on with edge-triggered epoll.
  std::size_t got = 0;
  while (got < into.size()) {
    ERR_clear_error();
    std::size_t n = 0;
    const int rc = SSL_read_ex(ssl_, into.data() + got, into.size() - got, &n);
    if (rc == 1) {
      got += n;
      continue;
    }
    const IoResult end = failed(SSL_get_error(ssl_, rc), rc);
    if (got == 0) return end;
    if (end.status != IoStatus::WouldBlock) {
      sticky_ = end;
      has_sticky_ = true;
    }
    break;
  }
  want_write_ = false;
  return {IoStatus::Ok, got, 0};
}

bool TlsTransport::buffered() const noexcept {
  return has_sticky_ || (ssl_ != nullptr && handshake_done_ && SSL_has_pending(ssl_) == 1);
}

IoResult TlsTransport::probe_end() noexcept {
  if (buffered()) return {IoStatus::Ok, 0, 0};
  // The raw socket: bytes (a record, perhaps close_notify) are for the next read to judge;
  // a bare FIN is a ragged end.
  char probe;
  for (;;) {
    const ssize_t n = ::recv(fd_, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return {IoStatus::Ok, 0, 0};
    if (n == 0)
      return suppress_ragged_eofs_ ? IoResult{IoStatus::Eof, 0, 0}
                                   : IoResult{IoStatus::Error, 0, ECONNABORTED};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return kWouldBlock;
    return {IoStatus::Error, 0, errno};
  }
}

IoResult TlsTransport::write_bytes(const char* data, std::size_t size) noexcept {
  if (!handshake_done_ || broken_) return {IoStatus::Error, 0, EPROTO};
  ERR_clear_error();
  std::size_t n = 0;
  const int rc = SSL_write_ex(ssl_, data, std::min(size, kMaxWrite), &n);
  if (rc == 1) return {IoStatus::Ok, n, 0};
  const IoResult r = failed(SSL_get_error(ssl_, rc), rc);
  // A write that cannot go on is a vanished peer to the writer, as EPIPE on a socket.
  if (r.status == IoStatus::Eof) return {IoStatus::Error, 0, EPIPE};
  return r;
}

IoResult TlsTransport::writev(std::span<const iovec> iov) noexcept {
  std::size_t i = 0;
  while (i < iov.size() && iov[i].iov_len == 0) ++i;
  if (i == iov.size()) return {IoStatus::Ok, 0, 0};
  // A large first buffer goes as it is; small pieces (a head and a short body) are gathered
  // into one record, one send, as the plain socket's writev sends them in one segment.
  if (iov[i].iov_len >= scratch_.size() || i + 1 == iov.size())
    return write_bytes(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  std::size_t used = 0;
  for (; i < iov.size() && used < scratch_.size(); ++i) {
    const std::size_t take = std::min(iov[i].iov_len, scratch_.size() - used);
    std::memcpy(scratch_.data() + used, iov[i].iov_base, take);
    used += take;
  }
  return write_bytes(scratch_.data(), used);
}

IoResult TlsTransport::sendfile(int file, off_t* offset, std::size_t count) noexcept {
  if (!handshake_done_ || broken_) return {IoStatus::Error, 0, EPROTO};
#ifndef OPENSSL_NO_KTLS
  if (ktls_send_) {
    ERR_clear_error();
    const ossl_ssize_t sent = SSL_sendfile(ssl_, file, *offset, count, 0);
    if (sent >= 0) {
      *offset += static_cast<off_t>(sent);
      return {IoStatus::Ok, static_cast<std::size_t>(sent), 0};
    }
    return failed(SSL_get_error(ssl_, static_cast<int>(sent)), static_cast<int>(sent));
  }
#endif
  // No kTLS: the file is read and encrypted here, a record's worth at a time. A retry
  // after WouldBlock reads the same bytes again (the offset moves only with what was sent).
  ssize_t got;
  do {
    got = ::pread(file, scratch_.data(), std::min(count, scratch_.size()), *offset);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return {IoStatus::Error, 0, errno};
  if (got == 0) return {IoStatus::Ok, 0, 0};  // the file is shorter than promised
  const IoResult r = write_bytes(scratch_.data(), static_cast<std::size_t>(got));
  if (r.status == IoStatus::Ok) *offset += static_cast<off_t>(r.bytes);
  return r;
}

void TlsTransport::shutdown_write() noexcept {
  if (handshake_done_ && !broken_ && !sent_shutdown_) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // close_notify, then the FIN
    sent_shutdown_ = true;
  }
  ::shutdown(fd_, SHUT_WR);
}

}  // namespace gthreadd::tls
