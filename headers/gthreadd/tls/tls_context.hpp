#pragma once
// An OpenSSL server context built from the TLS settings as gunicorn 21+ builds its
// ssl.SSLContext (sock.py's default_ssl_context_factory: create_default_context(CLIENT_AUTH,
// cafile=ca_certs), load_cert_chain(certfile, keyfile), verify_mode = cert_reqs,
// set_ciphers(ciphers)), plus ssl_version read as a minimum version.
//
// Threads: built by the master (single-threaded) before workers fork; a worker only reads
// it (wrap), from its loop thread. OpenSSL's SSL_CTX is safe to share for SSL_new.
#include <memory>
#include <string>

#include "gthreadd/config/settings.hpp"
#include "gthreadd/tls/tls_transport.hpp"

struct ssl_ctx_st;

namespace gthreadd::tls {

class TlsContext {
 public:
  // Null with `error` set to one line naming the setting at fault (a missing or unreadable
  // certfile, a key that does not match it, ciphers OpenSSL knows none of...).
  static std::unique_ptr<TlsContext> build(const config::Settings& settings, std::string& error);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A server-side TLS transport over `fd` (not owned); null when OpenSSL cannot allocate.
  [[nodiscard]] std::unique_ptr<TlsTransport> wrap(int fd) const;
  // The certificate's subject and expiry, for the log line that says what is served.
  [[nodiscard]] const std::string& summary() const noexcept { return summary_; }

 private:
  TlsContext(ssl_ctx_st* ctx, bool suppress_ragged_eofs)
      : ctx_(ctx), suppress_(suppress_ragged_eofs) {}
  ssl_ctx_st* ctx_;
  bool suppress_;
  std::string summary_;
};

}  // namespace gthreadd::tls
