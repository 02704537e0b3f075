#pragma once
// The event loop's side of a parked response (wsgi/parked_bytes.hpp): writes what the
// socket takes now, without blocking and without the GIL. Loop thread only.
#include <cstddef>

#include "gthreadd/worker/transport.hpp"
#include "gthreadd/wsgi/parked_bytes.hpp"

namespace gthreadd::worker {

enum class DrainStatus {
  Done,        // everything parked is written (and `parked` cleared)
  WouldBlock,  // the socket is full again: wait for EPOLLOUT
  Gone,        // the peer went away (or the file ended early): the response is lost
};

struct DrainResult {
  DrainStatus status = DrainStatus::Done;
  std::size_t bytes = 0;  // written by this call: progress, for --timeout's no-progress limit
};

DrainResult drain_parked(Transport& io, wsgi::ParkedBytes& parked) noexcept;

}  // namespace gthreadd::worker
