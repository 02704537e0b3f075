#include "gthreadd/config/bind_address.hpp"

#include <gtest/gtest.h>

namespace gthreadd::config {
namespace {

struct GoodBind {
  const char* text;
  BindAddress::Kind kind;
  const char* host;
  int port;
  const char* path;
  int fd;
  const char* url;
};

class GoodBindTest : public testing::TestWithParam<GoodBind> {};

TEST_P(GoodBindTest, Parses) {
  const auto& c = GetParam();
  std::string error;
  auto address = parse_bind_address(c.text, error);
  ASSERT_TRUE(address) << error;
  EXPECT_EQ(address->kind, c.kind);
  EXPECT_EQ(address->host, c.host);
  EXPECT_EQ(address->port, c.port);
  EXPECT_EQ(address->path, c.path);
  EXPECT_EQ(address->fd, c.fd);
  EXPECT_EQ(address->url(), c.url);
  EXPECT_EQ(address->original, c.text);
}

using K = BindAddress::Kind;
INSTANTIATE_TEST_SUITE_P(
    Forms, GoodBindTest,
    testing::Values(
        GoodBind{"127.0.0.1:8000", K::Tcp, "127.0.0.1", 8000, "", -1, "http://127.0.0.1:8000"},
        GoodBind{"127.0.0.1:0", K::Tcp, "127.0.0.1", 0, "", -1, "http://127.0.0.1:0"},
        GoodBind{"localhost", K::Tcp, "localhost", 8000, "", -1, "http://localhost:8000"},
        GoodBind{"Example.COM:80", K::Tcp, "example.com", 80, "", -1, "http://example.com:80"},
        GoodBind{":9000", K::Tcp, "0.0.0.0", 9000, "", -1, "http://0.0.0.0:9000"},
        GoodBind{"tcp://10.0.0.1:65535", K::Tcp, "10.0.0.1", 65535, "", -1,
                 "http://10.0.0.1:65535"},
        GoodBind{"[::1]:8080", K::Tcp, "::1", 8080, "", -1, "http://[::1]:8080"},
        GoodBind{"[::]", K::Tcp, "::", 8000, "", -1, "http://[::]:8000"},
        GoodBind{"unix:/run/app.sock", K::Unix, "", 8000, "/run/app.sock", -1,
                 "unix:/run/app.sock"},
        GoodBind{"unix:///tmp/a.sock", K::Unix, "", 8000, "/tmp/a.sock", -1, "unix:/tmp/a.sock"},
        GoodBind{"unix:relative.sock", K::Unix, "", 8000, "relative.sock", -1,
                 "unix:relative.sock"},
        GoodBind{"fd://3", K::Fd, "", 8000, "", 3, "fd://3"}));

class BadBindTest : public testing::TestWithParam<const char*> {};

TEST_P(BadBindTest, IsRefusedNamingTheAcceptedForms) {
  std::string error;
  EXPECT_FALSE(parse_bind_address(GetParam(), error));
  EXPECT_NE(error.find(GetParam()), std::string::npos) << error;
  EXPECT_NE(error.find("HOST:PORT"), std::string::npos) << error;
  EXPECT_NE(error.find("unix:PATH"), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(Forms, BadBindTest,
                         testing::Values("127.0.0.1:", "127.0.0.1:http", "127.0.0.1:65536",
                                         "127.0.0.1:-1", "::1:8000", "[::1", "[::1]8000", "[]:80",
                                         "unix:", "unix://", "fd://", "fd://x", "fd://-1",
                                         "host name:80"));

}  // namespace
}  // namespace gthreadd::config
