#pragma once
// One response on its way to the wire: holds the validated head, queues body bytes (as
// references to the app's bytes objects, no copy), decides the framing once, and writes
// with the GIL released. All methods are called with the GIL held.
//
// With a writer that parks (ResponseWriter::parking()), nothing here waits for the client:
// what the socket does not take is parked (the app's bytes objects referenced, kept alive
// here until resumed; the rest copied), parked() turns true, and the caller stops asking
// the app for more until the loop has written it and bind() is called again
// (docs/architecture.md, "Parked responses").
#include <Python.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gthreadd/http/request.hpp"
#include "gthreadd/wsgi/response_head.hpp"
#include "gthreadd/wsgi/response_writer.hpp"

namespace gthreadd::wsgi {

class ResponseStream {
 public:
  ResponseStream(const http::Request& request, ResponseWriter& writer);
  ~ResponseStream();
  ResponseStream(const ResponseStream&) = delete;
  ResponseStream& operator=(const ResponseStream&) = delete;

  [[nodiscard]] bool has_head() const noexcept { return head_set_; }
  [[nodiscard]] bool head_sent() const noexcept { return head_sent_; }
  [[nodiscard]] bool broken() const noexcept { return broken_; }
  [[nodiscard]] bool has_pending() const noexcept { return pending_len_ > 0; }
  [[nodiscard]] bool parked() const noexcept { return parked_; }
  // A pool thread takes the response (again): writes go to `writer`, a small final write to
  // `deferred` (defer_final_write_to), and the bytes objects of what was parked and is now
  // written are released.
  void bind(ResponseWriter& writer, std::string* deferred) noexcept;
  // The client went away (or read nothing for the send timeout) while parked, `unsent`
  // parked bytes never written: every later write fails, as after a failed send, and the
  // body bytes reported (the access log's %(B)s) leave out what was lost.
  void client_gone(std::uint64_t unsent) noexcept {
    broken_ = true;
    body_sent_ -= std::min(body_sent_, unsent);
  }
  // Drops every Python reference held (before a destruction without the GIL).
  void release() noexcept;
  // The validated head the app gave (for the access log's %({name}o)s atoms).
  [[nodiscard]] const ResponseHead& head() const noexcept { return head_; }
  void set_head(ResponseHead&& head);  // start_response (again, with exc_info, before sending)

  // Queues a body item (a bytes object, borrowed; the stream takes its own reference),
  // truncated at the app's Content-Length and dropped when the response has no body.
  void queue(PyObject* bytes);
  // Sends the head (if not yet sent) and what is queued. `final`: the body is complete, so
  // an unsized body gets a Content-Length instead of chunking if the head is still unsent,
  // and a chunked body gets its last-chunk. False if the peer is gone.
  bool flush(bool final);
  // wsgi.early_hints: "HTTP/1.1 103 Early Hints" with `fields` ("Name: value\r\n"...),
  // sent now, before the final head; nothing on HTTP/1.0 or once the head went out.
  // False if the peer is gone.
  bool send_early_hints(const std::string& fields);
  // The rest of the body from a regular file (wsgi.file_wrapper); ends the body.
  bool send_file(int fd, off_t offset, std::uint64_t count);

  // An error before the head went out: drop everything and answer 500 (closes).
  void send_internal_error();
  // An error after the head went out: the body is incomplete; the connection must close
  // (and a chunked body gets no last-chunk, so the client sees it was cut short).
  void abort() noexcept;

  [[nodiscard]] bool keep_alive() const noexcept;
  // A small final write (head + whole body) is copied into `buffer` instead of being sent
  // with the GIL released and then re-taken: the caller sends it after its one GIL release.
  // Saves a GIL round trip per request (the hand-offs between pool threads dominated the
  // hello-world profile).
  void defer_final_write_to(std::string* buffer) noexcept { deferred_ = buffer; }
  [[nodiscard]] int status_sent() const noexcept { return status_sent_; }
  [[nodiscard]] std::uint64_t body_bytes() const noexcept { return body_sent_; }

 private:
  [[nodiscard]] bool no_body() const noexcept;
  void decide_framing(std::optional<std::uint64_t> known_total);
  // Writes `iov`; iov[py_begin, py_end) point into the queued bytes objects (referenced if
  // parked, the rest copied).
  bool send_iov(std::vector<iovec>& iov, std::size_t py_begin = 0, std::size_t py_end = 0);
  void park(ParkedBytes& park, const std::vector<iovec>& iov, std::size_t first,
            std::size_t py_begin, std::size_t py_end);
  void drop_pending() noexcept;
  bool send_file_body(int fd, off_t offset, std::uint64_t count);

  const http::Request& request_;
  ResponseWriter* writer_;
  ResponseHead head_;
  bool head_set_ = false;
  bool head_sent_ = false;
  bool broken_ = false;
  bool aborted_ = false;
  bool finished_ = false;
  BodyFraming framing_ = BodyFraming::None;
  std::optional<std::uint64_t> derived_length_;
  bool keep_alive_at_head_ = false;
  std::string head_bytes_;
  bool parked_ = false;
  std::vector<PyObject*> parked_refs_;  // bytes objects parked iovecs point into
  std::vector<PyObject*> pending_refs_;
  std::vector<iovec> pending_iov_;
  std::uint64_t pending_len_ = 0;
  std::uint64_t body_queued_ = 0;   // body bytes accepted so far (after truncation)
  std::uint64_t body_dropped_ = 0;  // HEAD: what the body would have been, for its length
  std::uint64_t body_sent_ = 0;
  int status_sent_ = 0;
  std::string* deferred_ = nullptr;
};

}  // namespace gthreadd::wsgi
