#pragma once
// The request body, read completely by the event loop before the app runs, so a slow
// uploader never holds a pool thread. Held in memory up to a threshold, then spilled to
// an unlinked temporary file (as waitress does) so a large upload cannot exhaust memory.
//
// In memory the body is a run of pieces of kPiece bytes (the last one shorter), each its
// own allocation with room for a Python bytes header in front: apps read uploads in
// read(64 KiB) chunks (Django, werkzeug), and a chunk that is exactly one piece is handed
// to Python as that piece instead of being copied out of a cold 1 MiB buffer.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gthreadd/core/byte_buffer.hpp"
#include "gthreadd/core/unique_fd.hpp"

namespace gthreadd::http {

class RequestBody {
 public:
  // `spill_dir`: where the temporary file goes (the worker tmp dir); `memory_limit`: bytes
  // kept in memory before spilling.
  explicit RequestBody(std::string spill_dir = "/tmp", std::size_t memory_limit = 1 << 20);

  // Appends decoded body bytes. Returns false only if the spill file cannot be written.
  bool append(std::string_view bytes);
  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }

  // Copies up to `n` bytes from `offset` into `dst`; returns the count copied (short
  // where a piece was handed over by release_piece()).
  // Safe to call from the pool thread after the loop handed the request over.
  std::size_t read(std::uint64_t offset, char* dst, std::size_t n) const;

  [[nodiscard]] bool in_memory() const noexcept { return !file_.valid(); }
  // Moves what is held so far to the spill file now and keeps appending there (the worker's
  // memory budget for bodies is spent). False when the file cannot be made or written.
  bool spill_now() { return file_.valid() || spill(); }
  // errno of the last failed spill or append (ENOSPC, EDQUOT, EACCES...), 0 if none.
  [[nodiscard]] int last_error() const noexcept { return last_error_; }
  [[nodiscard]] const std::string& spill_dir() const noexcept { return spill_dir_; }
  [[nodiscard]] std::size_t memory_limit() const noexcept { return memory_limit_; }
  // When in memory: the bytes from `offset` to the end of the piece holding it (empty
  // past the end, when spilled, or when that piece was handed over). Lets wsgi.input
  // copy or scan without going through read().
  [[nodiscard]] std::string_view contiguous(std::uint64_t offset) const noexcept;

  // A body announced with this length: its pieces are allocated now (exactly: the last
  // one is as long as what is left) when it will stay in memory.
  void expect(std::uint64_t length);
  // Bytes the in-memory pieces can hold without another allocation (the loop receives a
  // Content-Length body directly only when all of it is reserved).
  [[nodiscard]] std::uint64_t reserved() const noexcept;
  // Direct fill (the event loop receives into the body instead of through its read
  // buffer: one copy less per upload). Only while in memory: room for at most `n` bytes,
  // up to the end of the current piece (never empty for n > 0), or empty when `n` more
  // bytes would pass the memory limit.
  std::span<char> prepare(std::size_t n);
  void commit(std::size_t n) noexcept;

  // Back to empty, in memory. The pieces are kept as spares while the connection keeps
  // sending large bodies (freeing and re-allocating them per upload made the kernel
  // zero-fill their pages again on every request) and all but one small buffer go after
  // a whole request cycle that did not need them (the loop clears once when a body
  // starts and once after the response). Returns whether memory was released (a piece
  // handed to Python counts).
  bool clear();
  // All memory held, spares included.
  [[nodiscard]] std::size_t capacity() const noexcept;
  static constexpr std::size_t kKeepCapacity = 64 * 1024;
  static constexpr std::size_t kPiece = 64 * 1024;

  // Room kept before and after every piece's bytes, so that a reader can put its own
  // object header in front of them instead of copying them.
  static constexpr std::size_t kHeadRoom = 32;
  static constexpr std::size_t kTailRoom = 1;
  // Hands over the piece that starts at `offset` when it is exactly `n` bytes long and
  // not much larger than them (the taker keeps all of it alive): kHeadRoom bytes, the
  // piece's bytes, its spare capacity and kTailRoom more, from std::malloc (the taker
  // frees it with std::free). nullptr otherwise, or when spilled. Those bytes are gone
  // from the body afterwards; the next clear() returns true.
  [[nodiscard]] char* release_piece(std::uint64_t offset, std::size_t n) noexcept;

 private:
  core::ByteBuffer& piece_with_room(std::size_t n);
  // A spare of at least `capacity` bytes, or a new one of exactly that; `snug`: only a
  // spare not much larger.
  core::ByteBuffer take_spare(std::size_t capacity, bool snug);
  bool spill();

  std::string spill_dir_;
  std::size_t memory_limit_;
  std::vector<core::ByteBuffer> pieces_;  // piece i holds [i * kPiece, i * kPiece + size)
  std::vector<core::ByteBuffer> spares_;  // empty pieces kept for the next bodies
  std::size_t filling_ = 0;               // the piece the next bytes go to
  core::UniqueFd file_;
  std::uint64_t size_ = 0;
  int idle_clears_ = 0;    // clears since a large capacity was last needed
  bool released_ = false;  // release_piece() since the last clear()
  int last_error_ = 0;
};

}  // namespace gthreadd::http
