#include "gthreadd/wsgi/request_board.hpp"

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace gthreadd::wsgi {
namespace {

template <std::size_t N>
void copy_text(char (&to)[N], std::string_view from) noexcept {
  const std::size_t n = std::min(from.size(), N - 1);
  std::memcpy(to, from.data(), n);
  to[n] = '\0';
}

thread_local RequestBoard* t_board = nullptr;
thread_local void* t_slot = nullptr;

}  // namespace

std::int64_t RequestBoard::now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);  // async-signal-safe (POSIX)
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

RequestBoard::Slot* RequestBoard::own_slot() noexcept {
  if (t_board == this) return static_cast<Slot*>(t_slot);
  const std::size_t index = used_.fetch_add(1, std::memory_order_relaxed);
  Slot* slot = index < kSlots ? &slots_[index] : nullptr;
  if (index >= kSlots) used_.store(kSlots, std::memory_order_relaxed);
  t_board = this;
  t_slot = slot;
  if (slot) slot->entry.thread_id = static_cast<unsigned long>(::pthread_self());
  return slot;
}

// Seqlock writer: odd while the entry changes; the fences order the sequence numbers
// around the plain stores, so a reader that saw the same even number before and after
// its copy has a consistent entry.
void RequestBoard::begin(std::string_view method, std::string_view target,
                         std::string_view peer) noexcept {
  Slot* slot = own_slot();
  if (!slot) return;
  const std::uint32_t seq = slot->seq.load(std::memory_order_relaxed);
  slot->seq.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  ++slot->entry.request;
  slot->entry.started_ns = now_ns();
  copy_text(slot->entry.method, method);
  copy_text(slot->entry.target, target);
  copy_text(slot->entry.peer, peer);
  slot->seq.store(seq + 2, std::memory_order_release);
}

void RequestBoard::end() noexcept {
  Slot* slot = own_slot();
  if (!slot) return;
  const std::uint32_t seq = slot->seq.load(std::memory_order_relaxed);
  slot->seq.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  slot->entry.started_ns = 0;
  slot->seq.store(seq + 2, std::memory_order_release);
}

bool RequestBoard::read(std::size_t index, BoardEntry& out) const noexcept {
  if (index >= used()) return false;
  const Slot& slot = slots_[index];
  // A writer preempted for good mid-write (it never is: the writes above cannot block)
  // would make this spin; bound it and show the last copy.
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const std::uint32_t before = slot.seq.load(std::memory_order_acquire);
    if (before & 1U) continue;
    std::memcpy(static_cast<void*>(&out), &slot.entry, sizeof out);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (slot.seq.load(std::memory_order_relaxed) == before) return true;
  }
  std::memcpy(static_cast<void*>(&out), &slot.entry, sizeof out);
  out.target[sizeof out.target - 1] = out.method[sizeof out.method - 1] =
      out.peer[sizeof out.peer - 1] = '\0';
  return true;
}

std::size_t RequestBoard::used() const noexcept {
  return std::min(used_.load(std::memory_order_acquire), kSlots);
}

namespace {
// Namespace scope, constant-initialised: no guard variable for a signal handler to race.
constinit RequestBoard g_board;
}  // namespace

RequestBoard& request_board() noexcept { return g_board; }

BoardTurn::BoardTurn(const http::Request& request, const PeerInfo& peer) noexcept {
  char text[sizeof(BoardEntry::peer)];
  if (peer.unix_socket || peer.remote_addr.empty()) {
    std::snprintf(text, sizeof text, "unix");
  } else {
    std::snprintf(text, sizeof text, "%s:%u", peer.remote_addr.c_str(),
                  static_cast<unsigned>(peer.remote_port));
  }
  request_board().begin(request.method, request.target, text);
}

}  // namespace gthreadd::wsgi
