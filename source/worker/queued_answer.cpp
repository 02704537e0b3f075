#include "gthreadd/worker/queued_answer.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/uio.h>

#include <string>

#include "gthreadd/http/error_response.hpp"
#include "gthreadd/metrics/recorder.hpp"
#include "gthreadd/worker/run_queue.hpp"

namespace gthreadd::worker {
namespace {

// The socket is non-blocking; a small response almost always fits the send buffer, but a
// client that reads nothing gets at most a second of the worker's last moments.
void send_all(Transport& io, const std::string& text) noexcept {
  std::size_t sent = 0;
  for (int waits = 0; sent < text.size() && waits < 10;) {
    const iovec iov{const_cast<char*>(text.data() + sent), text.size() - sent};
    const IoResult r = io.writev(std::span<const iovec>(&iov, 1));
    if (r.status == IoStatus::Ok) {
      sent += r.bytes;
    } else if (r.status == IoStatus::WouldBlock) {
      pollfd p{io.fd(), POLLOUT, 0};
      ::poll(&p, 1, 100);
      ++waits;
    } else {
      return;
    }
  }
  io.shutdown_write();
}

}  // namespace

std::size_t answer_queued_requests() noexcept {
  RunQueue* queue = RunQueue::current();
  if (!queue) return 0;
  try {
    auto taken = queue->close_and_take();
    if (taken.empty()) return 0;
    const std::string answer = http::make_error_response(503);
    for (auto& conn : taken) {
      send_all(conn->io(), answer);
      // --metrics-bind: answered, no longer waiting (relaxed atomics: signal-safe).
      const auto& metrics = metrics::recorder();
      metrics.request(conn->request.method, 503, std::chrono::nanoseconds(0));
      metrics.add_waiting(-1);
      metrics.add_in_flight(-1);
      spdlog::warn(
          "Answered 503 to {} {} from {}: queued, never started, when the worker was aborted",
          conn->request.method, conn->request.target,
          conn->peer.remote_addr.empty() ? std::string("unix") : conn->peer.remote_addr);
    }
    return taken.size();
  } catch (const std::exception& e) {
    spdlog::error("answering queued requests: {}", e.what());
    return 0;
  }
}

}  // namespace gthreadd::worker
