// The event loop's part of a parked response (docs/architecture.md, "Parked responses"): a
// response whose bytes the socket would not take comes back from the pool in state Writing;
// the loop writes it as the client reads, and gives the connection back to a pool thread
// when the app's iterator must go on (or the response must end: the client went away or
// read nothing for the send timeout), so no pool thread ever waits on a client.
#include <linux/sockios.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>

#include "gthreadd/core/assert.hpp"
#include "gthreadd/worker/event_loop.hpp"
#include "gthreadd/worker/parked_writer.hpp"

namespace gthreadd::worker {
namespace {

// Bytes of this socket the kernel holds that the peer has not taken yet (SIOCOUTQ: TCP's
// unsent and unacknowledged bytes, a unix socket's queued ones), or -1.
int kernel_send_queue(int fd) noexcept {
  int queued = 0;
  return ::ioctl(fd, SIOCOUTQ, &queued) == 0 ? queued : -1;
}

}  // namespace

void EventLoop::restart_write_deadline(Connection* conn) {
  conn->deadline = Clock::now() + pool_.send_timeout();
  conn->send_queue = kernel_send_queue(conn->io().fd());
}

void EventLoop::begin_writing(Connection* conn) {
  GTHREADD_ASSERT(conn->state == ConnState::Running, "parked by the pool, which owned it");
  conn->state = ConnState::Writing;
  // --timeout's meaning for a response (gunicorn's send timeout): this long without the
  // client taking a byte, and it is dropped.
  restart_write_deadline(conn);
  write_parked(conn);
}

void EventLoop::write_parked(Connection* conn) {
  GTHREADD_ASSERT(conn->state == ConnState::Writing, "only a parked response is written here");
  const DrainResult r = drain_parked(conn->io(), conn->parked);
  switch (r.status) {
    case DrainStatus::Done: end_writing(conn, false); return;
    case DrainStatus::Gone:
      spdlog::debug("Client {} went away during the response to {} {}", conn->peer.remote_addr,
                    conn->request.method, conn->request.target);
      end_writing(conn, true);
      return;
    case DrainStatus::WouldBlock:
      if (r.bytes > 0) restart_write_deadline(conn);
      // Waits for EPOLLOUT (state Writing adds it to the interest; registered once).
      if (!arm(conn)) end_writing(conn, true);
      return;
  }
}

void EventLoop::end_writing(Connection* conn, bool gone) {
  if (gone) {
    conn->unsent = conn->parked.remaining();
    conn->parked.clear();
    conn->keep_alive = false;
  }
  if (!conn->pending) {
    // Nothing of the app's is left: the response is complete (or lost), as when a pool
    // thread returns one it wrote whole.
    conn->state = ConnState::Running;  // after_response's starting state
    after_response(conn);
    return;
  }
  // The app's iterator goes on (or, the client gone, its close() runs) on a pool thread.
  conn->client_gone = gone;
  auto it = owned_.find(conn);
  std::unique_ptr<Connection> owned = std::move(it->second);
  owned_.erase(it);
  conn->state = ConnState::Running;
  pool_.submit(std::move(owned));
}

void EventLoop::note_client_progress(Connection* conn) {
  // The loop may write nothing for longer than the send timeout while the client reads all
  // along from the kernel's send buffer (several MiB on a fast link: at 64 KiB/s, minutes
  // before epoll calls the socket writable again). A smaller send queue is progress too.
  if (const int queued = kernel_send_queue(conn->io().fd());
      queued >= 0 && conn->send_queue >= 0 && queued < conn->send_queue)
    restart_write_deadline(conn);
}

void EventLoop::writing_timed_out(Connection* conn) {
  spdlog::info("Client {} read nothing for {} s: dropped before the end of the response to {} {}",
               conn->peer.remote_addr.empty() ? conn->peer.server_name : conn->peer.remote_addr,
               pool_.send_timeout().count() / 1000, conn->request.method, conn->request.target);
  end_writing(conn, true);
}

}  // namespace gthreadd::worker
