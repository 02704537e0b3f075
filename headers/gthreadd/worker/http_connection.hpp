#pragma once
// The HTTP/1 side of a connection while the event loop owns it: reads (through the
// connection's Transport), the PROXY header, head parsing, the body and its budget,
// 100-continue, rejecting a bad request, lingering close, and the reset for the next
// request. It never touches epoll or the pool: each call tells the loop what comes next
// (a Step), and the loop acts on it. Loop thread only, except reset_for_next (see there).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "gthreadd/config/settings.hpp"
#include "gthreadd/core/address_matcher.hpp"
#include "gthreadd/worker/body_budget.hpp"
#include "gthreadd/worker/connection.hpp"
#include "gthreadd/worker/request_handler.hpp"

namespace gthreadd::worker {

// What the loop does with a connection after an HTTP step.
enum class Step {
  Wait,      // wait for more bytes: arm the fd (also after a reject: it lingers)
  Dispatch,  // a complete request: hand it to the pool
  Close,     // close the connection now
  None,      // nothing (a connection running or lingering)
};

class HttpConnection {
 public:
  HttpConnection(const config::Settings& settings, BodyBudget& budget, RequestHandler& handler,
                 const core::AddressMatcher& forwarded_allow);

  // A readiness event (`events` from epoll; 0 when trying before any event, as at accept).
  Step on_readable(Connection& conn, std::uint32_t events, bool stopping);
  // Parses what is buffered; `eof`: the peer's FIN was read.
  Step process(Connection& conn, bool eof, bool stopping);
  // Reads what the socket has (bounded per call for fairness). False: the peer is gone.
  bool read_available(Connection& conn, bool& eof);
  // Answers `status` once, logs it, stops reading and lingers (the loop then arms the fd).
  void reject(Connection& conn, int status, std::string_view reason);
  // Half-closes and drains until EOF or the linger deadline, so a close does not turn
  // into a reset that destroys the response still in flight.
  void begin_linger(Connection& conn);
  // Drops the answered request and its body, keeping pipelined bytes; true when a large
  // buffer was released. Runs on whichever thread owns the connection: the loop, or the
  // pool thread returning it quietly (Pool).
  static bool reset_for_next(Connection& conn);

  std::chrono::milliseconds header_timeout() const noexcept { return header_timeout_; }
  std::chrono::milliseconds body_timeout() const noexcept { return body_timeout_; }

  // Read-buffer capacity a connection keeps between requests; more is released.
  static constexpr std::size_t kKeepBuffer = 64 * 1024;

 private:
  Step drain_linger(Connection& conn);
  bool read_body_direct(Connection& conn, bool& eof);
  std::optional<Step> advance_head(Connection& conn, bool eof, bool stopping);
  Step advance_body(Connection& conn, bool eof);
  std::optional<Step> take_proxy_header(Connection& conn, bool eof);  // nullopt: go on parsing
  std::optional<Step> start_body(Connection& conn);                   // nullopt: read the body
  bool charge_known_length(Connection& conn);                         // false: rejected
  bool charge_growth(Connection& conn);  // chunked bodies, as they grow; false: rejected
  void body_store_failed(Connection& conn);

  BodyBudget& budget_;
  RequestHandler& handler_;
  const core::AddressMatcher& forwarded_allow_;
  std::chrono::milliseconds header_timeout_;
  std::chrono::milliseconds body_timeout_;
};

}  // namespace gthreadd::worker
