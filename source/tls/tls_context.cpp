#include "gthreadd/tls/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gthreadd::tls {
namespace {

std::string openssl_reason() {
  unsigned long last = 0;
  for (unsigned long e; (e = ERR_get_error()) != 0;) last = e;  // the last is the most specific
  if (last == 0) return "unknown OpenSSL error";
  const char* reason = ERR_reason_error_string(last);
  return reason != nullptr ? reason : "unknown OpenSSL error";
}

// The file must be there and readable before OpenSSL says something vaguer about it.
std::string unreadable(const char* setting, const std::string& path) {
  if (::access(path.c_str(), R_OK) == 0) return {};
  return std::string(setting) + " '" + path + "': " + std::strerror(errno);
}

// An encrypted key would make OpenSSL prompt on the terminal; there is nobody to answer.
int no_password(char*, int, int, void*) { return 0; }

std::string load_identity(SSL_CTX* ctx, const config::Settings& s) {
  if (auto e = unreadable("certfile", s.certfile); !e.empty()) return e;
  const std::string& key = s.keyfile.empty() ? s.certfile : s.keyfile;
  const char* key_setting = s.keyfile.empty() ? "certfile (no keyfile: the key)" : "keyfile";
  if (auto e = unreadable(key_setting, key); !e.empty()) return e;
  if (SSL_CTX_use_certificate_chain_file(ctx, s.certfile.c_str()) != 1)
    return "certfile '" + s.certfile + "': no PEM certificate could be read: " + openssl_reason();
  SSL_CTX_set_default_passwd_cb(ctx, no_password);
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    // OpenSSL checks the key against the certificate as it loads it.
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      return std::string(key_setting) + " '" + key + "' does not match certfile '" + s.certfile +
             "'";
    }
    return std::string(key_setting) + " '" + key +
           "': no unencrypted PEM private key could be read: " + openssl_reason();
  }
  if (SSL_CTX_check_private_key(ctx) != 1)
    return std::string(key_setting) + " '" + key + "' does not match certfile '" + s.certfile +
           "': " + openssl_reason();
  return {};
}

std::string set_verification(SSL_CTX* ctx, const config::Settings& s) {
  if (!s.ca_certs.empty()) {
    if (auto e = unreadable("ca_certs", s.ca_certs); !e.empty()) return e;
    if (SSL_CTX_load_verify_locations(ctx, s.ca_certs.c_str(), nullptr) != 1)
      return "ca_certs '" + s.ca_certs + "': no PEM certificate could be read: " + openssl_reason();
    // The CAs named in the CertificateRequest, so a client with several certificates
    // picks the right one.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(s.ca_certs.c_str()))
      SSL_CTX_set_client_CA_list(ctx, names);
  } else if (s.cert_reqs != 0) {
    // Python's create_default_context(cafile=None) loads the system's CAs.
    SSL_CTX_set_default_verify_paths(ctx);
  }
  int mode = SSL_VERIFY_NONE;
  if (s.cert_reqs == 1) mode = SSL_VERIFY_PEER;
  if (s.cert_reqs == 2) mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(ctx, mode, nullptr);
  // Resumed sessions carry the verified client; OpenSSL refuses to resume without this.
  static const unsigned char kSessionContext[] = "gthreadd";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  return {};
}

std::string describe_certificate(SSL_CTX* ctx) {
  X509* cert = SSL_CTX_get0_certificate(ctx);
  if (cert == nullptr) return {};
  char subject[256] = {};
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
  std::string text = subject;
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    if (ASN1_TIME_print(bio, X509_get0_notAfter(cert)) == 1) {
      char* data = nullptr;
      const long n = BIO_get_mem_data(bio, &data);
      text += ", expires " + std::string(data, static_cast<std::size_t>(n));
    }
    BIO_free(bio);
  }
  return text;
}

}  // namespace

std::unique_ptr<TlsContext> TlsContext::build(const config::Settings& s, std::string& error) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    error = "TLS: cannot create an OpenSSL context: " + openssl_reason();
    return nullptr;
  }
  std::unique_ptr<TlsContext> out(new TlsContext(ctx, s.suppress_ragged_eofs));
  // TLS 1.2 at least whatever openssl.cnf or `ciphers` say, as Python 3.10+'s contexts do:
  // Debian 12's OpenSSL 3.0 left to its defaults completes a TLS 1.1 handshake.
  SSL_CTX_set_min_proto_version(ctx, s.ssl_version >= 0x0304 ? TLS1_3_VERSION : TLS1_2_VERSION);
  // As create_default_context: no compression (CRIME), the server's cipher order; no
  // client-started renegotiation, which the non-blocking loop has no use for.
  std::uint64_t options =
      SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION;
  // suppress_ragged_eofs: a FIN without close_notify reads as close_notify would, and the
  // session stays usable, so the response to a request the client sent before its FIN
  // still goes out (OpenSSL 3 otherwise fails the session with a decode_error alert).
  if (s.suppress_ragged_eofs) options |= SSL_OP_IGNORE_UNEXPECTED_EOF;
#ifdef SSL_OP_ENABLE_KTLS
  options |= SSL_OP_ENABLE_KTLS;  // the kernel does the record layer when it can (sendfile)
#endif
  SSL_CTX_set_options(ctx, options);
  // Writes return after what the socket took (as send does), may be retried from another
  // buffer holding the same bytes, and idle keep-alive connections drop their buffers.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  if (!s.ciphers.empty() && SSL_CTX_set_cipher_list(ctx, s.ciphers.c_str()) != 1) {
    error = "ciphers '" + s.ciphers + "': OpenSSL knows no cipher in it: " + openssl_reason();
    return nullptr;
  }
  error = load_identity(ctx, s);
  if (error.empty()) error = set_verification(ctx, s);
  if (!error.empty()) return nullptr;
  out->summary_ = describe_certificate(ctx);
  ERR_clear_error();
  return out;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

std::unique_ptr<TlsTransport> TlsContext::wrap(int fd) const {
  auto transport = std::make_unique<TlsTransport>(ctx_, fd, suppress_);
  if (!transport->ok()) return nullptr;
  return transport;
}

}  // namespace gthreadd::tls
