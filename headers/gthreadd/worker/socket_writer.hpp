#pragma once
// ResponseWriter over a connection's Transport, used from a pool thread without the GIL.
// A client that stops reading gets `send_timeout` of no progress, then the write fails
// and the connection is closed: it cannot hold a pool thread forever.
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
               RequestSlot* gate = nullptr)
      : transport_(transport), timeout_(send_timeout), gate_(gate) {}
  bool send(std::span<const iovec> iov) override;
  bool send_file(int fd, off_t offset, std::size_t count) override;
  ssize_t send_nowait(std::span<const iovec> iov) override;
  int server_answer(std::uint64_t* body_bytes) override {
    return gate_ ? gate_->server_answer(body_bytes) : 0;
  }
  // A send failed because the client read nothing for the whole send timeout (not because
  // it went away): the connection is dropped and the worker logs it at info.
  [[nodiscard]] bool timed_out() const noexcept { return timed_out_; }

 private:
  bool wait_writable();
  Transport& transport_;
  std::chrono::milliseconds timeout_;
  RequestSlot* gate_;
  bool timed_out_ = false;
};

}  // namespace gthreadd::worker
