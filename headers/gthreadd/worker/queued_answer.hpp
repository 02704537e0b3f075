#pragma once
// What a worker killed for WORKER TIMEOUT does with the requests no thread had started
// (issue 13): it answers them "503 Service Unavailable" with "Connection: close" rather
// than dropping them with no word. gunicorn's gthread worker drops them (its queue dies
// with the process). A 503 before any of the app ran is safe to retry: nginx does so with
// proxy_next_upstream http_503 (non-idempotent requests only with non_idempotent, which
// is right here: the app never saw them). Handing them to another worker would need the
// connection's fd and the bytes already read passed over a unix socket to a sibling the
// master would have to pick; the 503 is simpler and tells the client the truth.
//
// Connections still sending their request, and keep-alive connections between requests,
// are closed by the exit: nothing of theirs ran. Connections not yet accepted stay in the
// listen backlog the workers share and are served by another worker.
//
// Threads: the hang reporter's thread, while the loop and the pool threads may still run:
// the run queue is closed under its lock, so no pool thread starts what is taken.
#include <cstddef>

namespace gthreadd::worker {

// Answers every request waiting in the worker's run queue with 503 and closes the queue.
// Returns how many were answered.
std::size_t answer_queued_requests() noexcept;

}  // namespace gthreadd::worker
