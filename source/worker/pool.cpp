#include "gthreadd/worker/pool.hpp"

#include <spdlog/spdlog.h>

#include "gthreadd/core/assert.hpp"
#include "gthreadd/metrics/recorder.hpp"
#include "gthreadd/worker/http_connection.hpp"
#include "gthreadd/worker/socket_writer.hpp"
#include "gthreadd/worker/transport.hpp"

namespace gthreadd::worker {

Pool::Pool(tbb::task_arena& arena, RequestHandler& handler, int threads,
           std::chrono::milliseconds send_timeout, RequestWatch* watch)
    : handler_(handler),
      threads_(static_cast<std::size_t>(std::max(1, threads))),
      send_timeout_(send_timeout),
      watch_(watch && watch->enabled() ? watch : nullptr),
      run_queue_(threads_) {
  tasks_ = static_cast<int>(threads_);
  // One task per arena thread, each for the worker's life: the arena is sized to
  // --threads, so all of them run at once and --threads requests can be in the app.
  for (std::size_t i = 0; i < threads_; ++i) arena.enqueue([this] { run_task(); });
}

Pool::~Pool() {
  run_queue_.close();
  std::unique_lock lock(tasks_mutex_);
  tasks_done_.wait(lock, [&] { return tasks_ == 0; });
}

void Pool::run_task() {
  const std::size_t seat = run_queue_.enter();
  while (auto conn = run_queue_.pop(seat)) {
    serve(*conn);
    hand_back(std::move(conn));
  }
  std::lock_guard lock(tasks_mutex_);
  if (--tasks_ == 0) tasks_done_.notify_all();
}

void Pool::submit(std::unique_ptr<Connection> conn) {
  GTHREADD_ASSERT(conn->state == ConnState::Running,
                  "a connection goes to the pool only to run its request");
  GTHREADD_ASSERT(!conn->quiet_return,
                  "a quietly returned connection was resubmitted before the loop took it");
  running_.fetch_add(1, std::memory_order_relaxed);
  // --metrics-bind: read and not answered yet, and waiting for a thread until one pops it.
  const auto& metrics = metrics::recorder();
  metrics.add_in_flight(1);
  metrics.add_waiting(1);
  run_queue_.push(std::move(conn), Clock::now());
}

void Pool::collect(std::vector<std::unique_ptr<Connection>>& out, bool woken) {
  if (woken) returns_.drain(out);
  else returns_.take(out);
#if GTHREADD_ASSERTIONS_ACTIVE
  for (const auto& conn : out) {
    GTHREADD_ASSERT(conn->state == ConnState::Running,
                    "returned by the pool in a state the pool does not own");
    GTHREADD_ASSERT(!conn->quiet_return || (conn->registered && conn->keep_alive),
                    "a quiet return must be registered and kept alive");
  }
#endif
}

bool Pool::idle() {
  // running_ first: it drops under the return queue's lock as the connection is queued,
  // so once it reads 0, every returned connection is visible to empty().
  return running_.load(std::memory_order_acquire) == 0 && returns_.empty();
}

bool Pool::may_return_quietly(const Connection& conn) const {
  // A parked response is written by the loop: it must hear of it now.
  if (response_parked(conn)) return false;
  // Only the plain case: kept alive, registered, nothing pipelined behind the request
  // (that must be parsed by the loop now, not when more bytes come), the peer's FIN not
  // read yet (no edge will come: the loop must close it now, not at the keep-alive
  // deadline), and no stop or retirement under way (the loop must hear of the last
  // requests at once).
  // Bytes a TLS transport already decrypted or took from the socket count as pipelined: no
  // edge will announce them.
  return conn.keep_alive && conn.registered && !conn.peer_closed &&
         conn.buf.size() <= conn.request.head_length && !conn.tls_buffered() &&
         quiet_allowed_.load(std::memory_order_acquire);
}

void Pool::hand_back(std::unique_ptr<Connection> conn) {
  // The reset happens here, off the loop and outside the queue's lock (it may free large
  // buffers or a spilled body).
  const bool eligible = may_return_quietly(*conn);
  if (eligible) conn->released_large = HttpConnection::reset_for_next(*conn);
  returns_.push(std::move(conn), [&](Connection& c) {
    // Not the request that frees the first thread of a full pool: the loop stopped
    // listening when the pool filled (AcceptPolicy::has_capacity) and must start again
    // now, not at its next wake-up (a new connection to a --threads 1 worker would wait
    // up to the overflow check). Everything else may stay quiet.
    const std::size_t before = running_.fetch_sub(1, std::memory_order_acq_rel);
    GTHREADD_ASSERT(before > 0, "more returns than submissions");
    GTHREADD_ASSERT(!eligible || c.buf.empty(), "a quiet return is reset for its next request");
    return eligible && before != threads_;
  });
}

std::size_t Pool::answer_queued(const std::string& response) {
  std::size_t answered = 0;
  std::vector<std::unique_ptr<Connection>> mid_response;
  while (auto conn = run_queue_.try_pop()) {
    // A parked response coming back to advance: its head went out long ago, a 503 would
    // corrupt it. It waits for a thread like before (or ends with the worker).
    if (conn->pending) {
      mid_response.push_back(std::move(conn));
      continue;
    }
    // Bounded: a 503 fits an untouched send buffer; a client reading nothing for
    // 100 ms gets what fitted, then the close.
    send_final_answer(conn->io(), response, 1);
    spdlog::warn(
        "Answered 503 to {} {} from {}: queued, and every thread of this worker is past "
        "--request-timeout",
        conn->request.method, conn->request.target,
        conn->peer.remote_addr.empty() ? std::string("unix") : conn->peer.remote_addr);
    conn->keep_alive = false;
    hand_back(std::move(conn));
    ++answered;
  }
  for (auto& conn : mid_response) run_queue_.push(std::move(conn), Clock::now());
  return answered;
}

void Pool::serve(Connection& conn) {
  // --metrics-bind: relaxed adds into this worker's own slot, and the clock read only when
  // metrics are on (metrics/recorder.hpp). The duration is the pool thread's, as the access
  // log's %(D)s: from the pop to the last byte written, GIL wait included.
  const auto& metrics = metrics::recorder();
  const auto started = metrics.enabled() ? Clock::now() : Clock::time_point{};
  metrics.add_waiting(-1);
  metrics.add_busy_threads(1);
  int status = 0;
  // --request-timeout / --log-slow-requests: the watcher sees this request from here until
  // the slot ends, before the connection goes back to the loop (which may close its fd).
  struct Watched {
    RequestSlot* slot;
    Connection& conn;
    ~Watched() {
      if (slot && slot->end()) conn.keep_alive = false;  // timed out: close, never reuse
    }
  } watched{watch_ ? watch_->own_slot() : nullptr, conn};
  if (watched.slot) watched.slot->begin(conn.io());
  // Parking (docs/architecture.md, "Parked responses"): what the socket does not take goes
  // to conn.parked for the loop to write; this thread then takes the next request.
  SocketWriter writer(conn.io(), conn.parked,
                      watched.slot && watch_->limits_requests() ? watched.slot : nullptr);
  try {
    auto outcome = conn.pending ? handler_.resume(std::move(conn.pending),
                                                  std::exchange(conn.client_gone, false),
                                                  std::exchange(conn.unsent, 0), writer)
                                : handler_.handle(conn.request, conn.body, conn.peer, writer);
    conn.pending = std::move(outcome.pending);
    conn.keep_alive = outcome.keep_alive;
    status = outcome.status;
    // gunicorn's gthread handle_request, when the response closes the connection.
    if (!outcome.keep_alive && !response_parked(conn)) spdlog::debug("Closing connection.");
  } catch (const std::exception& e) {
    spdlog::error("Error handling request: {}", e.what());
    conn.keep_alive = false;
    conn.parked.clear();
  }
  // A parked response is counted once, when it ends.
  if (metrics.enabled() && !response_parked(conn))
    metrics.request(conn.request.method, status, Clock::now() - started);
  metrics.add_busy_threads(-1);
  metrics.add_in_flight(-1);
}

}  // namespace gthreadd::worker
