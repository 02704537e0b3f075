#include "gthreadd/worker/queued_answer.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/uio.h>

#include <string>

#include "gthreadd/http/error_response.hpp"
#include "gthreadd/metrics/recorder.hpp"
#include "gthreadd/worker/run_queue.hpp"

namespace gthreadd::worker {
std::size_t answer_queued_requests() noexcept {
  RunQueue* queue = RunQueue::current();
  if (!queue) return 0;
  try {
    auto taken = queue->close_and_take();
    if (taken.empty()) return 0;
    const std::string answer = http::make_error_response(503);
    for (auto& conn : taken) {
      // A small response almost always fits the send buffer; a client that reads nothing
      // gets at most a second of the worker's last moments.
      send_final_answer(conn->io(), answer, 10);
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
