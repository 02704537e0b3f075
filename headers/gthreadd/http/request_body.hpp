#pragma once
// The request body, read completely by the event loop before the app runs, so a slow
// uploader never holds a pool thread. Held in memory up to a threshold, then spilled to
// an unlinked temporary file (as waitress does) so a large upload cannot exhaust memory.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

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
  [[nodiscard]] std::string_view memory() const noexcept { return memory_; }

  void clear();  // back to empty, in memory; keeps the allocation

 private:
  std::string spill_dir_;
  std::size_t memory_limit_;
  std::string memory_;
  core::UniqueFd file_;
  std::uint64_t size_ = 0;
};

}  // namespace gthreadd::http
