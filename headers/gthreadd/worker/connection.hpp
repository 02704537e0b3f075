#pragma once
// One client connection. Owned by exactly one party at a time: the event loop while it
// reads and parses, or the single pool thread that runs its request (moved as a
// unique_ptr through the RunQueue and back through the ReturnQueue). Every member is
// touched only by the current owner; the hand-off through a queue's mutex orders the
// owners' accesses. The comments below say which owner writes a member when only one does.
// The quiet-return protocol (Pool) is the one place a member written by the pool
// (quiet_return) tells the loop something. See docs/architecture.md, "Who owns what".
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "gthreadd/core/byte_buffer.hpp"
#include "gthreadd/core/unique_fd.hpp"
#include "gthreadd/http/chunked_decoder.hpp"
#include "gthreadd/http/proxy_header.hpp"
#include "gthreadd/http/request.hpp"
#include "gthreadd/http/request_body.hpp"
#include "gthreadd/http/request_parser.hpp"
#include "gthreadd/worker/body_budget.hpp"
#include "gthreadd/worker/request_handler.hpp"
#include "gthreadd/worker/transport.hpp"
#include "gthreadd/wsgi/parked_bytes.hpp"
#include "gthreadd/wsgi/peer_info.hpp"

namespace gthreadd::worker {

using Clock = std::chrono::steady_clock;

enum class ConnState {
  Idle,         // keep-alive: waiting for the first byte of the next request
  ReadingHead,  // some bytes of a head arrived; header deadline runs
  ReadingBody,  // head parsed; reading the body; body-idle deadline runs
  Running,      // a pool task owns it
  Writing,      // a parked response: the loop writes it as the client reads; no thread held
  Lingering,    // answered with an error and half-closed; draining until EOF or deadline
};

struct Connection {
  Connection(core::UniqueFd f, const http::ParseLimits& limits, std::string spill_dir,
             BodyBudget* budget)
      : fd(std::move(f)),
        socket(fd.get()),
        parser(limits),
        body(std::move(spill_dir)),
        chunked(limits.body),
        charge(budget) {}

  core::UniqueFd fd;
  SocketTransport socket;  // the plain transport over fd
  // A TLS listener's connection (tls::TlsTransport over fd, set at accept). Declared after
  // fd, so it is destroyed first and its close_notify goes out before the fd closes.
  std::unique_ptr<Transport> tls;
  // Every read, write and sendfile of this connection goes here (never to fd directly).
  [[nodiscard]] Transport& io() noexcept { return tls ? *tls : socket; }
  [[nodiscard]] bool tls_buffered() const noexcept { return tls && tls->buffered(); }
  wsgi::PeerInfo peer;
  core::ByteBuffer
      buf;  // bytes read and not yet consumed (the parsed Request owns a copy of its head)
  std::size_t head_start = 0;  // where the current request starts in buf
  std::size_t body_read = 0;   // bytes of buf after the head consumed into the body
  http::RequestParser parser;
  http::Request request;
  http::RequestBody body;
  http::ChunkedDecoder chunked;
  BodyCharge charge;  // this body's share of the worker's BodyBudget
  // --proxy-protocol: engaged from accept until the connection's first bytes said whether
  // a PROXY header is there; never again on this connection (it precedes the first request).
  std::optional<http::ProxyHeaderParser> proxy;
  Clock::time_point request_started{};  // first byte of the current request's head
  ConnState state = ConnState::Idle;
  Clock::time_point deadline{};  // meaning depends on state
  bool continue_sent = false;
  bool keep_alive = true;  // written by the pool thread from the response outcome
  // A parked response (docs/architecture.md, "Parked responses"): the bytes the socket did
  // not take (filled on the pool thread, written by the loop in state Writing), and the
  // app's side of it when its iterator must go on afterwards. `client_gone`: set by the
  // loop when the client went away or read nothing for --timeout while parked; the pool
  // thread then finishes the response without writing (close() still runs, once).
  wsgi::ParkedBytes parked;
  std::unique_ptr<PendingResponse> pending;
  bool client_gone = false;
  std::uint64_t unsent = 0;  // with client_gone: parked bytes never written (access log)
  int send_queue = -1;       // Writing: the kernel's unsent bytes when the deadline was set
  // The quiet-return protocol (Pool). Written by the pool thread under the ReturnQueue's
  // lock as it hands the connection back, read by the loop once it took it: handed back
  // already reset for the next request, its fd still registered, without waking the loop
  // (`released_large`: the reset freed a large buffer); an edge came while the pool had
  // it, so the loop re-polls the socket.
  bool quiet_return = false;
  bool early_edge = false;
  bool released_large = false;
  // Edge-triggered epoll (EventLoop::arm), written by the loop only (the pool reads
  // `registered` and `peer_closed` to decide a quiet return): the fd is registered; a read
  // stopped before the socket was drained, or an edge came while the pool had the
  // connection, so the socket must be re-polled; a recv returned 0 (the peer's FIN).
  bool registered = false;
  std::uint32_t armed_events = 0;  // the epoll interest registered (EPOLLOUT: a TLS handshake)
  bool recheck = false;
  bool peer_closed = false;
  std::uint64_t served = 0;
  // Accepted moments ago and no request dispatched yet: its request is on the way, so the
  // balanced accept counts it as load (AcceptPolicy::has_capacity) until kFreshWindow passes.
  bool fresh = false;
  Clock::time_point accepted_at{};
};

// The response is not finished: bytes wait to be written, or the app's iterator to go on.
[[nodiscard]] inline bool response_parked(const Connection& conn) noexcept {
  return conn.pending != nullptr || !conn.parked.empty();
}

}  // namespace gthreadd::worker
