#pragma once
// ResponseWriter over a connection's Transport, on a pool thread.
// With `park` (the pool's way): never waits. What the socket does not take is parked for
// the event loop, which writes it and enforces --timeout's no-progress limit, so a client
// that reads slowly holds no pool thread (docs/architecture.md, "Parked responses").
// Without it (tests, and writers that must block): a client that stops reading gets
// `send_timeout` of no progress, then the write fails and the connection is closed.
#include <chrono>

#include "gthreadd/worker/request_watch.hpp"
#include "gthreadd/worker/transport.hpp"
#include "gthreadd/wsgi/response_writer.hpp"

namespace gthreadd::worker {

class SocketWriter final : public wsgi::ResponseWriter {
 public:
  // `gate` (--request-timeout only): asked before every write; once the request timed out
  // the writes fail as if the peer had gone, so nothing follows the watcher's 504.
  SocketWriter(Transport& transport, std::chrono::milliseconds send_timeout,
               RequestSlot* gate = nullptr, wsgi::ParkedBytes* park = nullptr)
      : transport_(transport), timeout_(send_timeout), gate_(gate), park_(park) {}
  bool send(std::span<const iovec> iov) override;
  bool send_file(int fd, off_t offset, std::size_t count) override;
  ssize_t send_nowait(std::span<const iovec> iov) override;
  ssize_t send_file_nowait(int fd, off_t offset, std::size_t count) override;
  wsgi::ParkedBytes* parking() noexcept override { return park_; }
  int server_answer(std::uint64_t* body_bytes) override {
    return gate_ ? gate_->server_answer(body_bytes) : 0;
  }
  // A send failed because the client read nothing for the whole send timeout (not because
  // it went away): the connection is dropped and the worker logs it at info.
  [[nodiscard]] bool timed_out() const noexcept { return timed_out_; }

 private:
  bool wait_writable();
  bool send_or_park(std::span<const iovec> iov);
  Transport& transport_;
  std::chrono::milliseconds timeout_;
  RequestSlot* gate_;
  wsgi::ParkedBytes* park_;
  bool timed_out_ = false;
};

}  // namespace gthreadd::worker
