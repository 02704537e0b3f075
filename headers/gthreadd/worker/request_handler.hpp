#pragma once
// What the worker asks of the application side, and all it asks: run one complete request
// on a pool thread, and log an answer the worker gave without the app. wsgi::AppRunner
// implements it over the embedded interpreter; the worker's unit tests drive the real
// event loop with a stub, without Python (docs/architecture.md, "The request path").
#include <chrono>
#include <cstdint>
#include <memory>

#include "gthreadd/http/request.hpp"
#include "gthreadd/http/request_body.hpp"
#include "gthreadd/wsgi/peer_info.hpp"
#include "gthreadd/wsgi/response_writer.hpp"

namespace gthreadd::worker {

// The application side of a response parked mid-way (its iterator, the bytes objects its
// parked bytes point into), held by the connection while the loop writes. Its destructor
// may take the GIL: the worker hands it back to a pool thread (resume) rather than
// destroying it, except when a loop is torn down with a response parked.
class PendingResponse {
 public:
  virtual ~PendingResponse() = default;
};

struct RequestOutcome {
  bool keep_alive = false;  // false: the worker closes the connection after this response
  int status = 0;           // status sent (0 if nothing was sent)
  std::uint64_t body_bytes = 0;
  // Set when the response is not finished: the writer's parked bytes must be written, and
  // then resume() called with this on a pool thread.
  std::unique_ptr<PendingResponse> pending;
};

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // On a pool thread, once per request. `request.keep_alive` is the client's wish (and
  // the worker's verdict); the outcome may say close anyway. Writes the whole response
  // through `writer` before returning, or parks it there (a writer with parking()) and
  // returns with `pending` set when the app's iterator must go on after it is written.
  virtual RequestOutcome handle(const http::Request& request, http::RequestBody& body,
                                const wsgi::PeerInfo& peer, wsgi::ResponseWriter& writer) = 0;
  // On a pool thread, once the bytes parked by handle() or an earlier resume() are written
  // (or the client went away: `client_gone`, or read nothing for --timeout, `unsent` of them
  // never written): goes on with the response, and finishes it (close(), hooks, the access
  // log) when it can.
  virtual RequestOutcome resume(std::unique_ptr<PendingResponse> pending, bool client_gone,
                                std::uint64_t unsent, wsgi::ResponseWriter& writer) = 0;
  // On the event loop thread: the access-log line of a request the worker answered itself
  // (a rejected head, a deadline, a full body budget).
  virtual void log_answer_without_app(const http::Request& request, const wsgi::PeerInfo& peer,
                                      int status, std::uint64_t body_bytes,
                                      std::chrono::microseconds duration) = 0;
};

}  // namespace gthreadd::worker
