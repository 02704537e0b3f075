#pragma once
// The request body, read completely by the event loop before the app runs, so a slow
// uploader never holds a pool thread. Held in memory up to a threshold, then spilled to
// an unlinked temporary file (as waitress does) so a large upload cannot exhaust memory.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

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

  // Copies up to `n` bytes from `offset` into `dst`; returns the count copied.
  // Safe to call from the pool thread after the loop handed the request over.
  std::size_t read(std::uint64_t offset, char* dst, std::size_t n) const;

  // When the body is in memory: a view of all of it (lets wsgi.input avoid a copy).
  [[nodiscard]] bool in_memory() const noexcept { return !file_.valid(); }
  [[nodiscard]] std::string_view memory() const noexcept { return memory_.view(); }

  // A body announced with this length: reserves it exactly when it will stay in memory.
  void expect(std::uint64_t length);
  // Direct fill (the event loop receives into the body instead of through its read
  // buffer: one copy less per upload). Only while in memory; `n` bytes of room that stay
  // within the memory limit, or nullptr when the body would spill.
  char* prepare(std::size_t n);
  void commit(std::size_t n) noexcept {
    memory_.commit(n);
    size_ += n;
  }

  // Back to empty, in memory. A small allocation is kept for the next request. A large
  // one (above kKeepCapacity) is kept while the connection keeps sending large bodies and
  // released after a whole request cycle that did not need it (the loop clears once when
  // a body starts and once after the response): freeing and re-allocating 1 MiB per
  // upload made glibc trim and re-grow its heap, and the kernel zero-filled the pages
  // again on every request (up to 48 page faults, ~110 us of CPU per 1 MiB upload).
  // Returns whether memory was released.
  bool clear();
  [[nodiscard]] std::size_t capacity() const noexcept { return memory_.capacity(); }
  static constexpr std::size_t kKeepCapacity = 64 * 1024;

  // Room kept before and after the in-memory bytes, so that a reader can put its own
  // object header in front of them instead of copying them (wsgi.input's read() of the
  // whole body returns a bytes object that is this memory).
  static constexpr std::size_t kHeadRoom = 32;
  static constexpr std::size_t kTailRoom = 1;
  // Hands over the in-memory allocation: kHeadRoom bytes, the body, capacity() - size()
  // spare bytes and kTailRoom more, from std::malloc (the taker frees it with std::free).
  // nullptr when the body is empty or spilled. The body is empty afterwards, and the next
  // clear() returns true (memory was released).
  [[nodiscard]] char* release_memory() noexcept;

 private:
  std::string spill_dir_;
  std::size_t memory_limit_;
  core::ByteBuffer memory_;
  core::UniqueFd file_;
  std::uint64_t size_ = 0;
  int idle_clears_ = 0;     // clears since a large capacity was last needed
  bool released_ = false;   // release_memory() since the last clear()
};

}  // namespace gthreadd::http
