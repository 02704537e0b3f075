#include "gthreadd/wsgi/response_stream.hpp"

#include <climits>
#include <span>

#include <fmt/format.h>

#include "gthreadd/http/error_response.hpp"
#include "gthreadd/wsgi/thread_state.hpp"

namespace gthreadd::wsgi {
namespace {
constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";

iovec as_iov(std::string_view s) { return iovec{const_cast<char*>(s.data()), s.size()}; }

// The vectors a response queues into, kept per thread between requests so that a request
// does not pay three heap allocations for them. Only buffers of a modest size are kept.
struct SpareVectors {
  std::vector<PyObject*> refs;
  std::vector<iovec> pending;
  std::vector<iovec> iov;
};
thread_local SpareVectors spare;
constexpr std::size_t kKeepCapacity = 1024;

template <typename T>
void give_back(std::vector<T>& used, std::vector<T>& slot) noexcept {
  used.clear();
  if (used.capacity() <= kKeepCapacity && used.capacity() > slot.capacity()) used.swap(slot);
}
}  // namespace

ResponseStream::ResponseStream(const http::Request& request, ResponseWriter& writer)
    : request_(request), writer_(&writer) {
  pending_refs_.swap(spare.refs);
  pending_iov_.swap(spare.pending);
}

ResponseStream::~ResponseStream() {
  release();
  give_back(pending_refs_, spare.refs);
  give_back(pending_iov_, spare.pending);
}

void ResponseStream::release() noexcept {
  drop_pending();
  for (PyObject* ref : parked_refs_) Py_DECREF(ref);
  parked_refs_.clear();
}

void ResponseStream::bind(ResponseWriter& writer, std::string* deferred) noexcept {
  writer_ = &writer;
  deferred_ = deferred;
  if (!parked_) return;
  // The loop wrote (or dropped) everything parked: its bytes objects are not needed.
  for (PyObject* ref : parked_refs_) Py_DECREF(ref);
  parked_refs_.clear();
  parked_ = false;
}

void ResponseStream::park(ParkedBytes& park, const std::vector<iovec>& iov, std::size_t first,
                          std::size_t py_begin, std::size_t py_end) {
  for (std::size_t i = first; i < iov.size(); ++i) {
    if (i >= py_begin && i < py_end) park.add_ref(iov[i].iov_base, iov[i].iov_len);
    else park.add_copy(std::string_view(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len));
  }
  // The queued bytes objects stay alive until the loop has written them (bind).
  parked_refs_.insert(parked_refs_.end(), pending_refs_.begin(), pending_refs_.end());
  pending_refs_.clear();
  parked_ = true;
}

void ResponseStream::set_head(ResponseHead&& head) {
  head_ = std::move(head);
  head_set_ = true;
}

// RFC 9110 §9.3.2 (HEAD), §15.2 (1xx), §15.3.5 (204), §15.4.5 (304): never a body.
bool ResponseStream::no_body() const noexcept {
  return request_.method == "HEAD" || head_.code < 200 || head_.code == 204 || head_.code == 304;
}

void ResponseStream::queue(PyObject* bytes) {
  auto len = static_cast<std::uint64_t>(PyBytes_GET_SIZE(bytes));
  if (len == 0 || aborted_ || broken_) return;
  if (no_body()) {
    body_dropped_ += len;
    return;
  }
  if (head_.content_length) {
    // Never more than the app announced: the rest would be read as the next response.
    const std::uint64_t allowed = *head_.content_length - body_queued_;
    if (allowed == 0) return;
    len = std::min(len, allowed);
  }
  Py_INCREF(bytes);
  pending_refs_.push_back(bytes);
  pending_iov_.push_back(iovec{PyBytes_AS_STRING(bytes), static_cast<std::size_t>(len)});
  pending_len_ += len;
  body_queued_ += len;
}

void ResponseStream::decide_framing(std::optional<std::uint64_t> total) {
  if (head_.content_length) {
    framing_ = BodyFraming::ContentLength;
  } else if (no_body()) {
    framing_ = BodyFraming::None;
    // HEAD gets the length a GET would have had, when the whole body was seen.
    if (total && request_.method == "HEAD" && head_.code >= 200 && head_.code != 204 &&
        head_.code != 304)
      derived_length_ = total;
  } else if (total) {
    framing_ = BodyFraming::ContentLength;  // whole body known: no need to chunk
    derived_length_ = total;
  } else if (request_.version_minor >= 1) {
    framing_ = BodyFraming::Chunked;
  } else {
    framing_ = BodyFraming::CloseDelimited;  // HTTP/1.0 without a length: EOF ends the body
  }
  keep_alive_at_head_ =
      request_.keep_alive && !head_.connection_close && framing_ != BodyFraming::CloseDelimited;
  head_bytes_ =
      serialize_head(head_, framing_, derived_length_, keep_alive_at_head_, request_.version_minor);
  status_sent_ = head_.code;
}

bool ResponseStream::send_iov(std::vector<iovec>& iov, std::size_t py_begin, std::size_t py_end) {
  if (iov.empty()) return true;
  // First what the socket takes at once, GIL held: usually all of it, and then this
  // thread keeps the GIL instead of queueing behind the others to get it back (stream
  // scenario: 128 chunks, 128 hand-offs before).
  const ssize_t sent = writer_->send_nowait(iov);
  if (sent < 0) return false;
  auto left = static_cast<std::size_t>(sent);
  std::size_t first = 0;
  while (first < iov.size() && left >= iov[first].iov_len) left -= iov[first++].iov_len;
  if (first == iov.size()) return true;
  iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
  iov[first].iov_len -= left;
  if (ParkedBytes* parking = writer_->parking()) {
    park(*parking, iov, first, py_begin, py_end);
    return true;
  }
  GilReleaser unlocked;
  constexpr std::size_t kBatch = IOV_MAX;
  for (std::size_t i = first; i < iov.size(); i += kBatch) {
    const std::size_t n = std::min(kBatch, iov.size() - i);
    if (!writer_->send(std::span<const iovec>(iov.data() + i, n))) return false;
  }
  return true;
}

bool ResponseStream::flush(bool final) {
  if (broken_ || aborted_) return false;
  std::vector<iovec> iov;
  iov.swap(spare.iov);
  struct KeepForNextFlush {
    std::vector<iovec>& iov;
    ~KeepForNextFlush() { give_back(iov, spare.iov); }
  } keep{iov};
  iov.reserve(pending_iov_.size() + 4);
  if (!head_sent_) {
    decide_framing(final ? std::optional(no_body() ? body_dropped_ : body_queued_) : std::nullopt);
    iov.push_back(as_iov(head_bytes_));
    head_sent_ = true;
  }
  char chunk_line[24];
  const bool chunked = framing_ == BodyFraming::Chunked;
  if (chunked && pending_len_ > 0) {
    // All queued items become one chunk: one size line per write, not per item.
    auto end = fmt::format_to(chunk_line, "{:x}\r\n", pending_len_);
    iov.push_back(iovec{chunk_line, static_cast<std::size_t>(end - chunk_line)});
  }
  const std::size_t py_begin = iov.size();
  iov.insert(iov.end(), pending_iov_.begin(), pending_iov_.end());
  const std::size_t py_end = iov.size();
  if (chunked && pending_len_ > 0) iov.push_back(as_iov(kCrlf));
  if (chunked && final) iov.push_back(as_iov(kLastChunk));
  constexpr std::uint64_t kDeferLimit = 64 * 1024;
  if (final && deferred_ != nullptr && pending_len_ + head_bytes_.size() <= kDeferLimit) {
    for (const auto& v : iov) deferred_->append(static_cast<const char*>(v.iov_base), v.iov_len);
    body_sent_ += pending_len_;
    drop_pending();
    finished_ = true;
    return true;
  }
  const bool ok = send_iov(iov, py_begin, py_end);
  if (ok) body_sent_ += pending_len_;
  drop_pending();
  if (final) finished_ = true;
  if (!ok) broken_ = true;
  return ok;
}

// RFC 8297 §2: any number of 103s may precede the final response; HTTP/1.0 has no 1xx
// (RFC 9110 §15.2), so gunicorn 25 sends none there.
bool ResponseStream::send_early_hints(const std::string& fields) {
  if (request_.version_minor == 0 || head_sent_ || broken_) return !broken_;
  std::string bytes = "HTTP/1.1 103 Early Hints\r\n";
  bytes += fields;
  bytes += "\r\n";
  std::vector<iovec> iov{{bytes.data(), bytes.size()}};
  if (!send_iov(iov)) broken_ = true;  // parked: copied (bytes is ours)
  return !broken_;
}

bool ResponseStream::send_file(int fd, off_t offset, std::uint64_t count) {
  if (broken_ || aborted_) return false;
  if (no_body()) {
    body_dropped_ += count;
    return flush(true);
  }
  if (head_.content_length) count = std::min(count, *head_.content_length - body_queued_);
  std::vector<iovec> iov;
  iov.reserve(pending_iov_.size() + 3);
  if (!head_sent_) {
    decide_framing(body_queued_ + count);
    iov.push_back(as_iov(head_bytes_));
    head_sent_ = true;
  }
  const bool chunked = framing_ == BodyFraming::Chunked;
  char chunk_line[24];
  if (chunked && pending_len_ + count > 0) {
    auto end = fmt::format_to(chunk_line, "{:x}\r\n", pending_len_ + count);
    iov.push_back(iovec{chunk_line, static_cast<std::size_t>(end - chunk_line)});
  }
  const std::size_t py_begin = iov.size();
  iov.insert(iov.end(), pending_iov_.begin(), pending_iov_.end());
  bool ok = send_iov(iov, py_begin, iov.size());
  if (ok && count > 0) ok = send_file_body(fd, offset, count);
  if (ok && chunked) {
    std::vector<iovec> tail;
    if (pending_len_ + count > 0) tail.push_back(as_iov(kCrlf));
    tail.push_back(as_iov(kLastChunk));
    ok = send_iov(tail);
  }
  if (ok) body_sent_ += pending_len_ + count;
  body_queued_ += count;
  drop_pending();
  finished_ = true;
  if (!ok) broken_ = true;
  return ok;
}

bool ResponseStream::send_file_body(int fd, off_t offset, std::uint64_t count) {
  ParkedBytes* parking = writer_->parking();
  if (!parking) {
    GilReleaser unlocked;
    return writer_->send_file(fd, offset, count);
  }
  // What the socket takes now; the rest is the loop's to send (the file object stays open:
  // the caller keeps the app's result until the response is finished).
  const ssize_t sent = parked_ ? 0 : writer_->send_file_nowait(fd, offset, count);
  if (sent < 0) return false;
  const auto done = static_cast<std::uint64_t>(sent);
  if (done < count) {
    parking->add_file(fd, offset + static_cast<off_t>(done), count - done);
    parked_ = true;
  }
  return true;
}

void ResponseStream::send_internal_error() {
  drop_pending();
  if (head_sent_) {
    abort();
    return;
  }
  const std::string response = http::make_error_response(500);
  std::vector<iovec> iov{as_iov(response)};
  head_sent_ = true;
  status_sent_ = 500;
  if (!send_iov(iov)) broken_ = true;
  aborted_ = true;  // make_error_response always closes
}

void ResponseStream::abort() noexcept {
  aborted_ = true;
  drop_pending();
}

void ResponseStream::drop_pending() noexcept {
  for (PyObject* ref : pending_refs_) Py_DECREF(ref);
  pending_refs_.clear();
  pending_iov_.clear();
  pending_len_ = 0;
}

bool ResponseStream::keep_alive() const noexcept {
  if (!head_sent_ || !finished_ || broken_ || aborted_ || !keep_alive_at_head_) return false;
  // An under-long body (RFC 9112 §6.3: the client would wait for the missing bytes and
  // then misread the next response): the only safe end is closing.
  if (head_.content_length && !no_body() && body_queued_ < *head_.content_length) return false;
  return true;
}

}  // namespace gthreadd::wsgi
