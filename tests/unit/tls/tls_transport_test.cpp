// TlsTransport over a socketpair, with an OpenSSL client on the other end: the handshake is
// driven by reads and never blocks, a read fills across records (a short read means the
// socket is drained), bytes left inside OpenSSL are reported as buffered, and the ends of a
// stream (close_notify, a ragged FIN with and without suppress_ragged_eofs).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "gthreadd/tls/tls_context.hpp"

namespace gthreadd::tls {
namespace {

using worker::IoStatus;

// A self-signed EC certificate and its key, as PEM files in a temp dir.
struct Identity {
  std::string cert, key;
  Identity() {
    char dir[] = "/tmp/gthreadd-tls-XXXXXX";
    const std::string base = ::mkdtemp(dir);
    cert = base + "/cert.pem";
    key = base + "/key.pem";
    EVP_PKEY* pkey = EVP_EC_gen("P-256");
    X509* x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("unit"), -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_sign(x, pkey, EVP_sha256());
    FILE* f = std::fopen(cert.c_str(), "w");
    PEM_write_X509(f, x);
    std::fclose(f);
    f = std::fopen(key.c_str(), "w");
    PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(x);
    EVP_PKEY_free(pkey);
  }
};

class TlsTransportTest : public testing::Test {
 protected:
  void start(bool suppress = true) {
    static const Identity identity;
    config::Settings s;
    s.certfile = identity.cert;
    s.keyfile = identity.key;
    s.suppress_ragged_eofs = suppress;
    std::string error;
    context_ = TlsContext::build(s, error);
    ASSERT_TRUE(context_) << error;
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds_), 0);
    server_ = context_->wrap(fds_[0]);
    ASSERT_TRUE(server_);
    client_ctx_ = SSL_CTX_new(TLS_client_method());
    client_ = SSL_new(client_ctx_);
    SSL_set_fd(client_, fds_[1]);
    SSL_set_connect_state(client_);
  }
  void TearDown() override {
    server_.reset();
    if (client_) SSL_free(client_);
    if (client_ctx_) SSL_CTX_free(client_ctx_);
    if (fds_[0] >= 0) ::close(fds_[0]);
    if (fds_[1] >= 0) ::close(fds_[1]);
  }
  // Both sides step until the client is connected; the server is only ever read.
  void handshake() {
    char buf[16];
    for (int i = 0; i < 20 && SSL_do_handshake(client_) != 1; ++i) {
      const auto r = server_->read(buf);
      ASSERT_EQ(r.status, IoStatus::WouldBlock);  // nothing sent yet, never blocks
      ASSERT_FALSE(server_->wants_write());
    }
    ASSERT_EQ(SSL_is_init_finished(client_), 1);
  }
  void client_write(const std::string& text) {
    ASSERT_EQ(SSL_write(client_, text.data(), static_cast<int>(text.size())),
              static_cast<int>(text.size()));
  }

  std::unique_ptr<TlsContext> context_;
  std::unique_ptr<TlsTransport> server_;
  SSL_CTX* client_ctx_ = nullptr;
  SSL* client_ = nullptr;
  int fds_[2] = {-1, -1};
};

TEST_F(TlsTransportTest, AReadFillsAcrossRecordsSoAShortReadMeansDrained) {
  start();
  handshake();
  client_write("GET / HTTP/1.1\r\n");
  client_write("Host: x\r\n");
  client_write("\r\n");
  char buf[1024];
  const auto r = server_->read(buf);
  ASSERT_EQ(r.status, IoStatus::Ok);
  EXPECT_EQ(std::string(buf, r.bytes), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_FALSE(server_->buffered());
  EXPECT_EQ(server_->read(buf).status, IoStatus::WouldBlock);
}

TEST_F(TlsTransportTest, BytesLeftInsideOpenSslAreReportedAsBuffered) {
  start();
  handshake();
  client_write(std::string(300, 'a'));
  char small[100];
  ASSERT_EQ(server_->read(small).bytes, 100u);
  EXPECT_TRUE(server_->buffered());  // the socket is empty: no epoll edge would say it
  char rest[1024];
  EXPECT_EQ(server_->read(rest).bytes, 200u);
  EXPECT_FALSE(server_->buffered());
}

TEST_F(TlsTransportTest, WritesAndSendfileArriveDecrypted) {
  start();
  handshake();
  char buf[64];
  ASSERT_EQ(server_->read(buf).status, IoStatus::WouldBlock);  // takes the client's Finished
  const std::string head = "HTTP/1.1 200 OK\r\n\r\n", body = "hello";
  const iovec iov[2] = {{const_cast<char*>(head.data()), head.size()},
                        {const_cast<char*>(body.data()), body.size()}};
  const auto w = server_->writev(iov);
  ASSERT_EQ(w.status, IoStatus::Ok);
  EXPECT_EQ(w.bytes, head.size() + body.size());  // gathered into one record
  FILE* file = std::tmpfile();
  std::fputs("0123456789", file);
  std::fflush(file);
  off_t offset = 2;
  const auto f = server_->sendfile(::fileno(file), &offset, 5);
  std::fclose(file);
  ASSERT_EQ(f.status, IoStatus::Ok);
  EXPECT_EQ(offset, 7);
  std::string got;
  char in[256];
  for (int n; got.size() < 29 && (n = SSL_read(client_, in, sizeof in)) > 0;) got.append(in, n);
  EXPECT_EQ(got, head + body + "23456");
}

TEST_F(TlsTransportTest, CloseNotifyIsTheEnd) {
  start();
  handshake();
  SSL_shutdown(client_);
  char buf[64];
  EXPECT_EQ(server_->read(buf).status, IoStatus::Eof);
}

TEST_F(TlsTransportTest, ARaggedEofIsTheEndOnlyWithSuppressRaggedEofs) {
  for (const bool suppress : {true, false}) {
    TearDown();
    client_ = nullptr;
    client_ctx_ = nullptr;
    fds_[0] = fds_[1] = -1;
    start(suppress);
    handshake();
    client_write("partial");
    ::shutdown(fds_[1], SHUT_WR);  // the FIN without close_notify
    char buf[64];
    auto r = server_->read(buf);
    ASSERT_EQ(r.status, IoStatus::Ok);  // the bytes first...
    EXPECT_EQ(std::string(buf, r.bytes), "partial");
    r = server_->read(buf);  // ...then how it ended
    EXPECT_EQ(r.status, suppress ? IoStatus::Eof : IoStatus::Error) << suppress;
  }
}

}  // namespace
}  // namespace gthreadd::tls
