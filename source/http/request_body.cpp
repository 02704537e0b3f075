#include "gthreadd/http/request_body.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

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
    : spill_dir_(std::move(spill_dir)), memory_limit_(memory_limit), memory_(kHeadRoom, kTailRoom) {
  tune_allocator_once();
}

bool RequestBody::append(std::string_view bytes) {
  if (bytes.empty()) return true;
  if (!file_.valid() && memory_.size() + bytes.size() > memory_limit_) {
    file_ = open_spill_file(spill_dir_);
    if (!file_.valid() || !write_all(file_.get(), memory_.view())) {
      file_.reset();
      return false;
    }
    memory_.clear();
    memory_.shrink_to(0);
  }
  if (file_.valid()) {
    // The file is append-only while the loop fills it, so the offset is always size_.
    if (!write_all(file_.get(), bytes)) return false;
  } else {
    memory_.append(bytes);
  }
  size_ += bytes.size();
  return true;
}

std::size_t RequestBody::read(std::uint64_t offset, char* dst, std::size_t n) const {
  if (offset >= size_) return 0;
  if (n > size_ - offset) n = static_cast<std::size_t>(size_ - offset);
  if (!file_.valid()) {
    std::memcpy(dst, memory_.data() + offset, n);
    return n;
  }
  // pread leaves the file offset alone, so reading never disturbs an append.
  std::size_t done = 0;
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
  if (length <= memory_limit_) memory_.reserve(static_cast<std::size_t>(length));
}

char* RequestBody::prepare(std::size_t n) {
  if (file_.valid() || memory_.size() + n > memory_limit_) return nullptr;
  return memory_.prepare(n);
}

char* RequestBody::release_memory() noexcept {
  if (file_.valid() || size_ == 0) return nullptr;
  size_ = 0;
  released_ = true;
  return memory_.release();
}

bool RequestBody::clear() {
  const bool used_large = size_ > kKeepCapacity;
  file_.reset();
  memory_.clear();
  size_ = 0;
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
  return memory_.shrink_to(kKeepCapacity);
}

}  // namespace gthreadd::http
