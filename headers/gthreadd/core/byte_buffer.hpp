#pragma once
// A growable byte buffer whose spare capacity is handed to recv(2) without being zeroed
// first (std::string::resize would memset 16 KiB per read: it showed up at 6% of a
// worker's profile). Views into it stay valid until it grows.
#include <cstddef>
#include <algorithm>
#include <cstring>
#include <memory>
#include <string_view>

namespace gthreadd::core {

class ByteBuffer {
 public:
  [[nodiscard]] const char* data() const noexcept { return data_.get(); }
  [[nodiscard]] char* data() noexcept { return data_.get(); }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  operator std::string_view() const noexcept { return {data_.get(), size_}; }  // NOLINT: views are the point
  [[nodiscard]] std::string_view view() const noexcept { return {data_.get(), size_}; }

  // At least `min_free` writable bytes after the data; may move the data.
  char* prepare(std::size_t min_free) {
    if (capacity_ - size_ < min_free) {
      std::size_t want = capacity_ ? capacity_ * 2 : 4096;
      while (want - size_ < min_free) want *= 2;
      auto grown = std::make_unique_for_overwrite<char[]>(want);
      if (size_) std::memcpy(grown.get(), data_.get(), size_);
      data_ = std::move(grown);
      capacity_ = want;
    }
    return data_.get() + size_;
  }
  // Exactly `total` bytes of capacity when it has less (a body of known length: doubling
  // would leave up to half of it unused).
  void reserve(std::size_t total) {
    if (total <= capacity_) return;
    auto grown = std::make_unique_for_overwrite<char[]>(total);
    if (size_) std::memcpy(grown.get(), data_.get(), size_);
    data_ = std::move(grown);
    capacity_ = total;
  }
  // Gives the memory back when more than `keep` bytes of capacity are held and the data
  // fits in `keep`: one large request must not pin its buffer for the connection's life
  // (PSS per worker, issue 4). Returns whether it released anything.
  bool shrink_to(std::size_t keep) {
    if (capacity_ <= keep || size_ > keep) return false;
    std::unique_ptr<char[]> smaller;
    if (size_) {
      smaller = std::make_unique_for_overwrite<char[]>(keep);
      std::memcpy(smaller.get(), data_.get(), size_);
    }
    capacity_ = size_ ? keep : 0;
    data_ = std::move(smaller);
    return true;
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
    std::memmove(data_.get() + pos, data_.get() + pos + n, size_ - pos - n);
    size_ -= n;
  }
  void clear() noexcept { size_ = 0; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace gthreadd::core
