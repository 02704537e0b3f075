#pragma once
// A growable byte buffer whose spare capacity is handed to recv(2) without being zeroed
// first (std::string::resize would memset 16 KiB per read, on the hot path). Views into it
// stay valid until it grows.
//
// Optional room before the data and after the capacity lets the whole allocation be
// handed to a new owner with its own header in front (a Python bytes object adopts a
// request body this way: no copy). The memory comes from std::malloc for that reason:
// the new owner frees it with std::free.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <utility>

namespace gthreadd::core {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(std::size_t head_room, std::size_t tail_room) noexcept
      : head_room_(head_room), tail_room_(tail_room) {}
  ByteBuffer(ByteBuffer&& other) noexcept
      : block_(std::move(other.block_)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)),
        head_room_(other.head_room_),
        tail_room_(other.tail_room_) {}
  ByteBuffer& operator=(ByteBuffer&& other) noexcept {
    if (this == &other) return *this;
    drop_pages();
    block_ = std::move(other.block_);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
    head_room_ = other.head_room_;
    tail_room_ = other.tail_room_;
    return *this;
  }
  ~ByteBuffer() { drop_pages(); }

  [[nodiscard]] const char* data() const noexcept {
    return block_ ? block_.get() + head_room_ : nullptr;
  }
  [[nodiscard]] char* data() noexcept { return block_ ? block_.get() + head_room_ : nullptr; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  operator std::string_view() const noexcept { return view(); }  // NOLINT: views are the point
  [[nodiscard]] std::string_view view() const noexcept { return {data(), size_}; }

  // At least `min_free` writable bytes after the data; may move the data.
  char* prepare(std::size_t min_free) {
    if (capacity_ - size_ < min_free) {
      std::size_t want = capacity_ ? capacity_ * 2 : 4096;
      while (want - size_ < min_free) want *= 2;
      regrow(want);
    }
    return data() + size_;
  }
  // Exactly `total` bytes of capacity when it has less (a body of known length: doubling
  // would leave up to half of it unused).
  void reserve(std::size_t total) {
    if (total > capacity_) regrow(total);
  }
  // Gives the memory back when more than `keep` bytes of capacity are held and the data
  // fits in `keep`: one large request must not pin its buffer for the connection's life
  // (PSS per worker, issue 4). Returns whether it released anything.
  bool shrink_to(std::size_t keep) {
    if (capacity_ <= keep || size_ > keep) return false;
    drop_pages(size_);
    if (size_) {
      regrow(keep);
    } else {
      block_.reset();
      capacity_ = 0;
    }
    return true;
  }
  // Hands the allocation over: head room, data, spare capacity and tail room, from
  // std::malloc (free it with std::free). The buffer is empty afterwards.
  [[nodiscard]] char* release() noexcept {
    size_ = 0;
    capacity_ = 0;
    return block_.release();
  }
  [[nodiscard]] std::size_t free_space() const noexcept { return capacity_ - size_; }
  void commit(std::size_t n) noexcept { size_ += n; }

  void append(std::string_view bytes) {
    std::memcpy(prepare(bytes.size()), bytes.data(), bytes.size());
    size_ += bytes.size();
  }
  // Removes [pos, pos + n); bytes after it move down; bytes before it do not move.
  void erase(std::size_t pos, std::size_t n) noexcept {
    if (pos >= size_) return;
    n = std::min(n, size_ - pos);
    std::memmove(data() + pos, data() + pos + n, size_ - pos - n);
    size_ -= n;
  }
  void clear() noexcept { size_ = 0; }

 private:
  struct Free {
    void operator()(char* p) const noexcept { std::free(p); }
  };

  // A large block given up goes back to the kernel at once: its whole pages are dropped
  // before free(), which glibc does not return while other memory sits above it in the
  // heap (freed upload buffers would stay resident until the next malloc_trim).
  // Only pages inside the block: malloc's own headers around it are never touched. Data
  // before `keep_prefix` bytes stays (shrink_to copies it out afterwards).
  void drop_pages(std::size_t keep_prefix = 0) noexcept {
    const std::size_t bytes = head_room_ + capacity_ + tail_room_;
    if (!block_ || bytes < kDropPagesFrom) return;
    const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    const auto begin = reinterpret_cast<std::uintptr_t>(block_.get());
    const std::uintptr_t first = (begin + head_room_ + keep_prefix + page - 1) / page * page;
    const std::uintptr_t last = (begin + bytes) / page * page;
    if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
  }
  static constexpr std::size_t kDropPagesFrom = 256 * 1024;

  // A new allocation of `capacity` bytes (plus the rooms), keeping the data.
  void regrow(std::size_t capacity) {
    std::unique_ptr<char, Free> grown(
        static_cast<char*>(std::malloc(head_room_ + capacity + tail_room_)));
    if (!grown) throw std::bad_alloc();
    if (size_) std::memcpy(grown.get() + head_room_, data(), size_);
    block_ = std::move(grown);
    capacity_ = capacity;
  }

  std::unique_ptr<char, Free> block_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  std::size_t head_room_ = 0;
  std::size_t tail_room_ = 0;
};

}  // namespace gthreadd::core
