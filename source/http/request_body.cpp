#include "gthreadd/http/request_body.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <utility>

namespace gthreadd::http {

namespace {

// An unlinked file: nothing is left behind if the worker dies mid-upload.
core::UniqueFd open_spill_file(const std::string& dir) {
  int fd = -1;
#ifdef O_TMPFILE
  fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return core::UniqueFd(fd);
    // Some filesystems (and older kernels) lack O_TMPFILE: fall back to mkstemp + unlink.
#endif
  std::string path = dir + "/gthreadd-body-XXXXXX";
  fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) return {};
  ::unlink(path.c_str());
  return core::UniqueFd(fd);
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// A body given to Python (wsgi.input's read() of the whole of it) is freed by Python, and
// the connection's next body is a fresh allocation. With glibc's default thresholds a free
// that leaves more than ~2 MiB free at the top of the heap trims it, and the next body
// faults its pages in again: 120-160 page faults and ~+250 us of CPU per 1 MiB upload.
// Bodies come from the heap and the heap is trimmed only past 32 MiB; the event loop's
// malloc_trim after a burst of large requests still hands the memory back (PSS).
void tune_allocator_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    ::mallopt(M_MMAP_THRESHOLD, 4 << 20);
    ::mallopt(M_TRIM_THRESHOLD, 32 << 20);
  });
}

}  // namespace

RequestBody::RequestBody(std::string spill_dir, std::size_t memory_limit)
    : spill_dir_(std::move(spill_dir)), memory_limit_(memory_limit) {
  tune_allocator_once();
}

core::ByteBuffer RequestBody::take_spare(std::size_t capacity, bool snug) {
  std::size_t best = spares_.size();
  for (std::size_t i = 0; i < spares_.size(); ++i) {
    const std::size_t cap = spares_[i].capacity();
    if (cap >= capacity && (best == spares_.size() || cap < spares_[best].capacity())) best = i;
  }
  // A snug piece may be handed to Python whole: one much larger than its bytes would not.
  if (best < spares_.size() && (!snug || spares_[best].capacity() - capacity <= capacity / 8)) {
    core::ByteBuffer spare = std::move(spares_[best]);
    if (best + 1 != spares_.size()) spares_[best] = std::move(spares_.back());
    spares_.pop_back();
    return spare;
  }
  core::ByteBuffer fresh(kHeadRoom, kTailRoom);
  fresh.reserve(capacity);
  return fresh;
}

// Pieces before `filling_` are full, and only the last piece may be shorter than kPiece,
// so the piece holding an offset is offset / kPiece.
core::ByteBuffer& RequestBody::piece_with_room(std::size_t n) {
  for (;;) {
    if (filling_ == pieces_.size())
      pieces_.push_back(take_spare(std::clamp<std::size_t>(n, 4096, kPiece), false));
    core::ByteBuffer& piece = pieces_[filling_];
    if (piece.free_space() > 0) return piece;
    if (piece.capacity() < kPiece) {
      piece.reserve(std::min(kPiece, std::max(piece.capacity() * 2, piece.size() + n)));
      return piece;
    }
    ++filling_;
  }
}

bool RequestBody::spill() {
  file_ = open_spill_file(spill_dir_);
  bool ok = file_.valid();
  for (std::size_t i = 0; ok && i < pieces_.size(); ++i)
    ok = write_all(file_.get(), pieces_[i].view());
  if (!ok) {
    last_error_ = errno;
    file_.reset();
    return false;
  }
  pieces_.clear();  // a body past the memory limit is rare: its pieces are not kept
  filling_ = 0;
  return true;
}

bool RequestBody::append(std::string_view bytes) {
  if (bytes.empty()) return true;
  if (!file_.valid() && size_ + bytes.size() > memory_limit_ && !spill()) return false;
  if (file_.valid()) {
    // The file is append-only while the loop fills it, so the offset is always size_.
    if (!write_all(file_.get(), bytes)) {
      last_error_ = errno;
      return false;
    }
    size_ += bytes.size();
    return true;
  }
  while (!bytes.empty()) {
    const std::span<char> room = prepare(bytes.size());
    std::memcpy(room.data(), bytes.data(), room.size());
    commit(room.size());
    bytes.remove_prefix(room.size());
  }
  return true;
}

std::string_view RequestBody::contiguous(std::uint64_t offset) const noexcept {
  if (file_.valid() || offset >= size_) return {};
  const auto index = static_cast<std::size_t>(offset / kPiece);
  if (index >= pieces_.size()) return {};
  const std::string_view piece = pieces_[index].view();
  const auto within = static_cast<std::size_t>(offset % kPiece);
  return within < piece.size() ? piece.substr(within) : std::string_view{};
}

std::size_t RequestBody::read(std::uint64_t offset, char* dst, std::size_t n) const {
  if (offset >= size_) return 0;
  if (n > size_ - offset) n = static_cast<std::size_t>(size_ - offset);
  std::size_t done = 0;
  if (!file_.valid()) {
    while (done < n) {
      const std::string_view run = contiguous(offset + done);
      if (run.empty()) break;  // a piece handed over
      const std::size_t k = std::min(run.size(), n - done);
      std::memcpy(dst + done, run.data(), k);
      done += k;
    }
    return done;
  }
  // pread leaves the file offset alone, so reading never disturbs an append.
  while (done < n) {
    const ssize_t r = ::pread(file_.get(), dst + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (r == 0) break;
    done += static_cast<std::size_t>(r);
  }
  return done;
}

void RequestBody::expect(std::uint64_t length) {
  if (length > memory_limit_ || file_.valid() || !pieces_.empty()) return;
  for (std::uint64_t at = 0; at < length; at += kPiece)
    pieces_.push_back(
        take_spare(static_cast<std::size_t>(std::min<std::uint64_t>(kPiece, length - at)), true));
}

std::uint64_t RequestBody::reserved() const noexcept {
  std::uint64_t total = 0;
  if (!file_.valid())
    for (const auto& piece : pieces_) total += piece.capacity();
  return total;
}

std::size_t RequestBody::capacity() const noexcept {
  std::size_t total = 0;
  for (const auto& piece : pieces_) total += piece.capacity();
  for (const auto& spare : spares_) total += spare.capacity();
  return total;
}

std::span<char> RequestBody::prepare(std::size_t n) {
  if (n == 0 || file_.valid() || size_ + n > memory_limit_) return {};
  core::ByteBuffer& piece = piece_with_room(n);
  return {piece.data() + piece.size(), std::min(n, piece.free_space())};
}

void RequestBody::commit(std::size_t n) noexcept {
  pieces_[filling_].commit(n);
  size_ += n;
}

char* RequestBody::release_piece(std::uint64_t offset, std::size_t n) noexcept {
  if (file_.valid() || n == 0 || offset % kPiece != 0) return nullptr;
  const auto index = static_cast<std::size_t>(offset / kPiece);
  if (index >= pieces_.size()) return nullptr;
  core::ByteBuffer& piece = pieces_[index];
  if (piece.size() != n || piece.capacity() - n > n / 8) return nullptr;
  released_ = true;
  return piece.release();
}

bool RequestBody::clear() {
  const bool used_large = size_ > kKeepCapacity;
  last_error_ = 0;
  file_.reset();
  for (auto& piece : pieces_) {
    if (piece.capacity() == 0) continue;  // handed over
    piece.clear();
    spares_.push_back(std::move(piece));
  }
  pieces_.clear();
  filling_ = 0;
  size_ = 0;
  // Pieces allocated afresh because no spare fitted must not pile up.
  const std::size_t max_spares = memory_limit_ / kPiece + 2;
  if (spares_.size() > max_spares) spares_.resize(max_spares);
  if (released_) {  // memory was freed elsewhere: worth a malloc_trim by the loop
    released_ = false;
    idle_clears_ = 0;
    return true;
  }
  if (used_large) {
    idle_clears_ = 0;
    return false;
  }
  if (++idle_clears_ < 2) return false;
  // A whole request cycle without a large body: keep one buffer of at most kKeepCapacity.
  std::size_t keep = spares_.size();
  for (std::size_t i = 0; i < spares_.size(); ++i) {
    const std::size_t cap = spares_[i].capacity();
    if (cap <= kKeepCapacity && (keep == spares_.size() || cap > spares_[keep].capacity()))
      keep = i;
  }
  if (spares_.size() == (keep < spares_.size() ? 1u : 0u)) return false;
  if (keep < spares_.size()) {
    core::ByteBuffer kept = std::move(spares_[keep]);
    spares_.clear();
    spares_.push_back(std::move(kept));
  } else {
    spares_.clear();
  }
  return true;
}

}  // namespace gthreadd::http
