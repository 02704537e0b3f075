#pragma once
// The worker's request board: one slot per pool thread saying which request it runs
// (method, target, peer, start time, the thread's id as faulthandler prints it), so that a
// worker about to die of WORKER TIMEOUT can say where each thread was (gunicorn's
// operators ask for exactly this: benoitc/gunicorn #185, #1243, #3136).
//
// Threads: a slot is written only by its own pool thread (begin/end, no locks: a sequence
// number, odd while writing); read() may run in any thread, also in a signal handler: it
// only copies fixed-size buffers and retries while a write is under way.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gthreadd/http/request.hpp"
#include "gthreadd/wsgi/peer_info.hpp"

namespace gthreadd::wsgi {

struct BoardEntry {
  std::uint64_t request = 0;    // this thread's request counter: tells one request from the next
  unsigned long thread_id = 0;  // pthread_self(), which is what faulthandler prints
  std::int64_t started_ns = 0;  // CLOCK_MONOTONIC; 0: the thread is idle
  char method[16] = {};
  char target[256] = {};  // truncated, always NUL-terminated
  char peer[64] = {};     // "127.0.0.1:5555", or "unix"
};

class RequestBoard {
 public:
  static constexpr std::size_t kSlots = 512;  // threads beyond this are not shown

  // The calling (pool) thread starts / finishes a request. Never blocks, never allocates.
  void begin(std::string_view method, std::string_view target, std::string_view peer) noexcept;
  void end() noexcept;

  // Copies slot `index` into `out`; false if the slot was never used. Async-signal-safe.
  bool read(std::size_t index, BoardEntry& out) const noexcept;
  [[nodiscard]] std::size_t used() const noexcept;

  static std::int64_t now_ns() noexcept;  // CLOCK_MONOTONIC, async-signal-safe

 private:
  struct Slot {
    std::atomic<std::uint32_t> seq{0};
    BoardEntry entry;
  };
  Slot* own_slot() noexcept;

  Slot slots_[kSlots];
  std::atomic<std::size_t> used_{0};
};

// The worker process's board (static storage: valid in signal handlers and after fork).
RequestBoard& request_board() noexcept;

// The calling pool thread's turn on the board, for one request: begin on construction
// (peer as "addr:port", or "unix"), end on destruction.
class BoardTurn {
 public:
  BoardTurn(const http::Request& request, const PeerInfo& peer) noexcept;
  ~BoardTurn() { request_board().end(); }
  BoardTurn(const BoardTurn&) = delete;
  BoardTurn& operator=(const BoardTurn&) = delete;
};

}  // namespace gthreadd::wsgi
