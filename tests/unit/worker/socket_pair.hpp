#pragma once
// A connected, non-blocking AF_UNIX stream pair for the worker's unit tests: `server` is the
// side the code under test writes, `client` the side the test reads.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "gthreadd/core/unique_fd.hpp"

namespace gthreadd::worker::testing {

struct SocketPair {
  core::UniqueFd server;
  core::UniqueFd client;
  // `send_buffer`: SO_SNDBUF for the server side (0: the kernel's default).
  explicit SocketPair(int send_buffer = 0) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    server.reset(fds[0]);
    client.reset(fds[1]);
    if (send_buffer > 0)
      ::setsockopt(server.get(), SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer);
  }
  // What the socket holds for the client now, without waiting.
  std::string drain() {
    std::string out;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(client.get(), buf, sizeof buf)) > 0)
      out.append(buf, static_cast<std::size_t>(n));
    return out;
  }
  // Everything until EOF, waiting up to 10 s.
  std::string read_to_eof() {
    std::string out;
    for (;;) {
      pollfd p{client.get(), POLLIN, 0};
      if (::poll(&p, 1, 10'000) <= 0) return out + "<timeout>";
      char buf[4096];
      const ssize_t n = ::read(client.get(), buf, sizeof buf);
      if (n <= 0) return out;
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
};

}  // namespace gthreadd::worker::testing
