// SocketWriter over a socketpair: it never waits for the client. What the socket does not
// take is parked in the connection's ParkedBytes, in order, and nothing written later
// overtakes it (docs/architecture.md, "Parked responses").
#include "gthreadd/worker/socket_writer.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "gthreadd/core/unique_fd.hpp"
#include "socket_pair.hpp"

namespace gthreadd::worker {
namespace {

using Pair = testing::SocketPair;
// A send buffer far below the bodies here (the kernel doubles it).
constexpr int kSmallBuffer = 4096;

std::string body_of(std::size_t size) {
  std::string body(size, '\0');
  for (std::size_t i = 0; i < size; ++i) body[i] = static_cast<char>('a' + i % 26);
  return body;
}

// The parked pieces before the file, as the loop would write them.
std::string parked_iov(const wsgi::ParkedBytes& park) {
  std::string out;
  for (std::size_t i = park.next; i < park.iov.size(); ++i)
    out.append(static_cast<const char*>(park.iov[i].iov_base), park.iov[i].iov_len);
  return out;
}

iovec as_iov(const std::string& s) { return {const_cast<char*>(s.data()), s.size()}; }

TEST(SocketWriter, WhatFitsIsWrittenAndNothingParked) {
  Pair pair(kSmallBuffer);
  SocketTransport io(pair.server.get());
  wsgi::ParkedBytes park;
  SocketWriter writer(io, park);
  const std::string head = "HTTP/1.1 200 OK\r\n\r\n";
  const std::string body = "hello";
  const iovec iov[] = {as_iov(head), as_iov(body)};
  EXPECT_TRUE(writer.send(iov));
  EXPECT_TRUE(park.empty());
  EXPECT_EQ(writer.parking(), &park);
  EXPECT_EQ(pair.drain(), head + body);
}

TEST(SocketWriter, WhatTheSocketDoesNotTakeIsParkedInOrderAndLaterBytesFollowIt) {
  Pair pair(kSmallBuffer);
  SocketTransport io(pair.server.get());
  wsgi::ParkedBytes park;
  SocketWriter writer(io, park);
  const std::string first = body_of(1 << 20);  // far more than the send buffer holds
  const iovec iov1[] = {as_iov(first)};
  EXPECT_TRUE(writer.send(iov1));  // returns at once: a writer that waited would hang here
  ASSERT_FALSE(park.empty());
  // Behind parked bytes nothing is written, not even what would fit now.
  const std::string in_socket = pair.drain();
  const std::string second = "tail";
  const iovec iov2[] = {as_iov(second)};
  EXPECT_EQ(writer.send_nowait(iov2), 0);
  EXPECT_TRUE(writer.send(iov2));
  EXPECT_EQ(pair.drain(), "");
  EXPECT_EQ(park.remaining(), first.size() - in_socket.size() + second.size());
  EXPECT_EQ(in_socket + parked_iov(park), first + second);
}

TEST(SocketWriter, TheUntakenRestOfAFileIsParkedByReference) {
  Pair pair(kSmallBuffer);
  SocketTransport io(pair.server.get());
  wsgi::ParkedBytes park;
  SocketWriter writer(io, park);
  FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  const std::string content = body_of(1 << 20);
  ASSERT_EQ(std::fwrite(content.data(), 1, content.size(), file), content.size());
  ASSERT_EQ(std::fflush(file), 0);
  const int fd = ::fileno(file);
  EXPECT_TRUE(writer.send_file(fd, 100, content.size() - 100));
  const std::string in_socket = pair.drain();
  EXPECT_EQ(in_socket, content.substr(100, in_socket.size()));
  EXPECT_EQ(park.file, fd);
  EXPECT_EQ(park.offset, static_cast<off_t>(100 + in_socket.size()));
  EXPECT_EQ(park.count, content.size() - 100 - in_socket.size());
  // Bytes after the file (a chunked body's end) follow it, not precede it.
  const std::string end = "0\r\n\r\n";
  const iovec iov[] = {as_iov(end)};
  EXPECT_TRUE(writer.send(iov));
  ASSERT_EQ(park.after_file.size(), 1u);
  EXPECT_EQ(pair.drain(), "");
  std::fclose(file);
}

TEST(SocketWriter, APeerThatWentAwayFailsTheWrite) {
  Pair pair(kSmallBuffer);
  SocketTransport io(pair.server.get());
  wsgi::ParkedBytes park;
  SocketWriter writer(io, park);
  pair.client.reset();
  const std::string body = "hello";
  const iovec iov[] = {as_iov(body)};
  EXPECT_FALSE(writer.send(iov));
  EXPECT_EQ(writer.send_nowait(iov), -1);
  EXPECT_TRUE(park.empty());
}

}  // namespace
}  // namespace gthreadd::worker
