#pragma once
// ResponseWriter over a connection's Transport, on a pool thread. Never waits: what the
// socket does not take is parked in the connection's ParkedBytes for the event loop, which
// writes it and enforces --timeout's no-progress limit, so a client that reads slowly holds
// no pool thread (docs/architecture.md, "Parked responses").
//
// Threads: built and used by the pool thread running the request (Pool::serve), which owns
// the connection, its transport and its ParkedBytes until it hands the connection back.
#include "gthreadd/worker/request_watch.hpp"
#include "gthreadd/worker/transport.hpp"
#include "gthreadd/wsgi/parked_bytes.hpp"
#include "gthreadd/wsgi/response_writer.hpp"

namespace gthreadd::worker {

class SocketWriter final : public wsgi::ResponseWriter {
 public:
  // `park`: the connection's parked bytes; outlives the writer. `gate` (--request-timeout
  // only): asked before every write; once the request timed out the writes fail as if the
  // peer had gone, so nothing follows the watcher's 504.
  SocketWriter(Transport& transport, wsgi::ParkedBytes& park, RequestSlot* gate = nullptr)
      : transport_(transport), park_(park), gate_(gate) {}
  // Writes what the socket takes and parks the rest (and everything, once anything is
  // parked: bytes never overtake parked ones). False only when the peer went away.
  bool send(std::span<const iovec> iov) override;
  // As send(); the untaken rest of the file is parked by reference: `fd` must stay open
  // until the loop has written it (the caller keeps the app's file object).
  bool send_file(int fd, off_t offset, std::size_t count) override;
  ssize_t send_nowait(std::span<const iovec> iov) override;
  ssize_t send_file_nowait(int fd, off_t offset, std::size_t count) override;
  wsgi::ParkedBytes* parking() noexcept override { return &park_; }
  int server_answer(std::uint64_t* body_bytes) override {
    return gate_ ? gate_->server_answer(body_bytes) : 0;
  }

 private:
  Transport& transport_;
  wsgi::ParkedBytes& park_;
  RequestSlot* gate_;
};

}  // namespace gthreadd::worker
