#include "gthreadd/worker/http_connection.hpp"

#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include <spdlog/spdlog.h>

#include "gthreadd/http/error_response.hpp"
#include "gthreadd/metrics/recorder.hpp"

namespace gthreadd::worker {
namespace {

constexpr std::chrono::seconds kLingerTime{2};
constexpr std::size_t kReadChunk = 16 * 1024;
// Waiting for a head, the read buffer stops filling at this size (the parser asks for more
// if the head is longer): body bytes behind a head should go straight into the body.
constexpr std::size_t kHeadReadLimit = 48 * 1024;
// Bytes read per connection and round, head or body: fairness to the other connections.
constexpr std::size_t kReadRound = 256 * 1024;

std::chrono::milliseconds seconds_to_ms(double s) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000.0));
}

// The request line of a head rejected before it was complete, for its access-log line:
// taken from the buffer again (an earlier parse's views may point into a buffer a read has
// since moved), and only when it is three printable words, so nothing a client sent can
// forge or break a log line. Otherwise the line logs as "- - -".
void request_line_for_log(std::string_view buf, http::Request& out) {
  const auto eol = buf.find("\r\n");
  if (eol == std::string_view::npos || eol > 8192) return;
  const std::string_view line = buf.substr(0, eol);
  for (unsigned char c : line)
    if (c < 0x20 || c > 0x7e) return;
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) return;
  const std::string_view version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return;
  out.method = line.substr(0, sp1);
  out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  out.version_minor = version == "HTTP/1.0" ? 0 : 1;
}

void send_all_now(Transport& io, std::string_view bytes) {
  // A short answer on a fresh socket buffer: one non-blocking write; what does not fit is
  // lost, as with the send(2) this replaced (the client is being refused anyway).
  const iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  [[maybe_unused]] const IoResult r = io.writev(std::span<const iovec>(&iov, 1));
}

}  // namespace

HttpConnection::HttpConnection(const config::Settings& settings, BodyBudget& budget,
                               RequestHandler& handler, const core::AddressMatcher& forwarded_allow)
    : budget_(budget),
      handler_(handler),
      forwarded_allow_(forwarded_allow),
      header_timeout_(seconds_to_ms(settings.header_timeout)),
      body_timeout_(seconds_to_ms(settings.body_timeout)) {}

Step HttpConnection::drain_linger(Connection& conn) {
  char sink[4096];
  for (;;) {
    const IoResult r = conn.io().read(sink);
    if (r.status == IoStatus::Ok) continue;
    return r.status == IoStatus::WouldBlock ? Step::Wait : Step::Close;
  }
}

Step HttpConnection::on_readable(Connection& conn, std::uint32_t events, bool stopping) {
  if (conn.state == ConnState::Lingering) return drain_linger(conn);
  bool eof = false;
  if (!read_available(conn, eof)) return Step::Close;
  // The peer's FIN is reported once, often with the last bytes, which a short read takes
  // without seeing the end: look for it now, or the connection would wait out its
  // keep-alive deadline. A recv says it, not the event flag: the event may be a stale
  // one for a closed connection whose address this one took.
  // A reset behind the last bytes is reported the same way, and this recv is what takes the
  // socket's error (it is cleared once read): an error means the peer is gone, so the
  // connection closes now. Ignoring it kept a half-uploaded request's fd, slot and body
  // until its deadline; with edge-triggered epoll no later event would tell again.
  if (!eof && !conn.recheck && (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
    const IoResult r = conn.io().probe_end();
    if (r.status == IoStatus::Eof) {
      eof = true;
    } else if (r.status == IoStatus::Error) {
      spdlog::debug("Connection from {} reset: {}", conn.peer.remote_addr, std::strerror(r.error));
      return Step::Close;
    }
  }
  if (eof) conn.peer_closed = true;
  return process(conn, eof, stopping);
}

bool HttpConnection::read_body_direct(Connection& conn, bool& eof) {
  auto& body = conn.body;
  std::size_t got = 0;
  bool ok = true;
  bool drained = false;  // a short read, EAGAIN or EOF: no bytes left that no edge reports
  while (got < kReadRound) {
    const auto want = static_cast<std::size_t>(conn.request.content_length - body.size());
    // Up to the end of the body's current piece (each piece may become a bytes object).
    const std::span<char> room = body.prepare(want);
    if (room.empty()) break;  // the body is complete; what follows stays in the socket
    const IoResult r = conn.io().read(room);
    if (r.status == IoStatus::Ok) {
      body.commit(r.bytes);
      got += r.bytes;
      if (r.bytes < room.size()) {
        drained = true;
        break;
      }
      continue;
    }
    drained = true;
    if (r.status == IoStatus::Eof) eof = true;
    else if (r.status == IoStatus::Error) ok = false;
    break;
  }
  if (!drained) conn.recheck = true;
  if (got > 0) conn.deadline = Clock::now() + body_timeout_;
  return ok;
}

bool HttpConnection::read_available(Connection& conn, bool& eof) {
  eof = false;
  conn.recheck = false;  // this read tells anew whether bytes are left behind
  // A body of known length that fits in memory, with nothing of it left in the read
  // buffer: receive it where it is going (one memcpy less per byte, and the read buffer
  // does not grow to the body's size).
  if (conn.state == ConnState::ReadingBody &&
      conn.request.framing == http::BodyFraming::ContentLength &&
      conn.buf.size() == conn.request.head_length && conn.body.in_memory() &&
      conn.request.content_length <= conn.body.reserved())
    return read_body_direct(conn, eof);
  // Reading a body: the parsed request owns a copy of its head (http::Request), so the
  // buffer may grow and move under it.
  const bool views_live = conn.state == ConnState::ReadingBody;
  for (;;) {
    char* dst = conn.buf.prepare(kReadChunk);
    const std::size_t room = conn.buf.free_space();
    const IoResult r = conn.io().read(std::span<char>(dst, room));
    if (r.status == IoStatus::Ok) {
      conn.buf.commit(r.bytes);
      // A short read took all the socket had: TCP hands over everything queued.
      if (r.bytes < room) break;
      // A single request head or body slice is plenty per round; fairness to others.
      // Bytes may be left behind, and the edge that announced them is spent: arm() re-polls.
      if (conn.buf.size() >= kReadRound || (!views_live && conn.buf.size() >= kHeadReadLimit)) {
        conn.recheck = true;
        break;
      }
      continue;
    }
    if (r.status == IoStatus::Eof) {
      eof = true;
      break;
    }
    if (r.status == IoStatus::WouldBlock) break;
    return false;  // ECONNRESET and friends
  }
  return true;
}

Step HttpConnection::process(Connection& conn, bool eof, bool stopping) {
  // A read saw the end: every byte the peer sent is in buf (on_readable).
  if (conn.peer_closed) eof = true;
  if (conn.state == ConnState::Idle || conn.state == ConnState::ReadingHead) {
    if (auto step = advance_head(conn, eof, stopping)) return *step;
  }
  if (conn.state == ConnState::ReadingBody) return advance_body(conn, eof);
  return Step::None;  // Running or Lingering
}

std::optional<Step> HttpConnection::advance_head(Connection& conn, bool eof, bool stopping) {
  if (conn.buf.empty()) {
    if (eof || (stopping && Clock::now() >= conn.deadline)) return Step::Close;
    return Step::Wait;
  }
  if (conn.state == ConnState::Idle) {
    // The header deadline counts from the first byte of the head (gunicorn's is per
    // read; a per-request bound is what stops slowloris).
    conn.state = ConnState::ReadingHead;
    conn.request_started = Clock::now();
    conn.deadline = conn.request_started + header_timeout_;
  }
  if (conn.proxy) {
    if (auto step = take_proxy_header(conn, eof)) return step;
  }
  const auto status = conn.parser.parse(conn.buf.view(), conn.request);
  if (status == http::ParseStatus::Error) {
    reject(conn, conn.parser.error().status, conn.parser.error().reason);
    return Step::Wait;
  }
  if (status == http::ParseStatus::Incomplete)
    return eof ? Step::Close : Step::Wait;  // eof: gave up mid-head
  return start_body(conn);
}

Step HttpConnection::advance_body(Connection& conn, bool eof) {
  const std::size_t head_end = conn.request.head_length;
  std::string_view avail(conn.buf.data() + head_end, conn.buf.size() - head_end);
  bool done = false;
  std::size_t used = 0;
  if (conn.request.framing == http::BodyFraming::ContentLength) {
    const std::uint64_t want = conn.request.content_length - conn.body.size();
    used = static_cast<std::size_t>(std::min<std::uint64_t>(want, avail.size()));
    if (used > 0 && !conn.body.append(avail.substr(0, used))) {
      body_store_failed(conn);
      return Step::Wait;
    }
    done = conn.body.size() == conn.request.content_length;
  } else {
    const auto r = conn.chunked.feed(avail, conn.body);
    used = r.consumed;
    if (r.status == http::ChunkedDecoder::Status::Error) {
      if (conn.body.last_error() != 0) body_store_failed(conn);
      else reject(conn, conn.chunked.error_status(), conn.chunked.error_reason());
      return Step::Wait;
    }
    if (!charge_growth(conn)) return Step::Wait;
    done = r.status == http::ChunkedDecoder::Status::Done;
  }
  // Body bytes now live in conn.body: drop them from buf so a large upload is not held
  // twice. The head before head_end stays put until the response (reset_for_next).
  if (used > 0) {
    conn.buf.erase(head_end, used);
    conn.deadline = Clock::now() + body_timeout_;
  }
  if (done) return Step::Dispatch;
  // The client half-closed before the body was complete: that is a bad request, never
  // a short body handed to the app (issue 3).
  if (eof) {
    reject(conn, 400, "body ended before its end");
    return Step::Wait;
  }
  return Step::Wait;
}

std::optional<Step> HttpConnection::take_proxy_header(Connection& conn, bool eof) {
  const http::ProxyResult result = conn.proxy->feed(conn.buf.view());
  switch (result.status) {
    case http::ProxyStatus::Incomplete: return eof ? Step::Close : Step::Wait;
    case http::ProxyStatus::Absent:  // plain HTTP: a PROXY header is accepted, not required
      conn.proxy.reset();
      return std::nullopt;
    case http::ProxyStatus::Done: {
      // REMOTE_ADDR/REMOTE_PORT and the access log's %(h)s are the client's, as the proxy saw it.
      const http::ProxyHeader& header = conn.proxy->header();
      if (!header.use_real_peer) {
        conn.peer.remote_addr = header.source_addr;
        conn.peer.remote_port = header.source_port;
        // Behind a TCP proxy the HTTP fields are the client's own: the client, not the
        // proxy, is judged as a forwarder, here as in the environ (wsgi::EnvironBuilder).
        conn.parser.set_trusted_forwarder(
            forwarded_allow_.allows_peer(conn.peer.remote_addr, conn.peer.unix_socket));
      }
      conn.buf.erase(0, result.consumed);
      conn.proxy.reset();
      return std::nullopt;
    }
    case http::ProxyStatus::Forbidden:
      // gunicorn's ForbiddenProxyRequest: the peer is not in --proxy-allow-from.
      spdlog::debug("PROXY header from {} refused: not in --proxy-allow-from",
                    conn.peer.remote_addr);
      conn.proxy.reset();
      reject(conn, 403, "PROXY header from a peer not allowed to send one");
      return Step::Wait;
    case http::ProxyStatus::Error:
      spdlog::debug("Invalid PROXY header from {}: {}", conn.peer.remote_addr, conn.proxy->error());
      conn.proxy.reset();
      reject(conn, 400, "invalid PROXY header");
      return Step::Wait;
  }
  return Step::Wait;
}

std::optional<Step> HttpConnection::start_body(Connection& conn) {
  auto& req = conn.request;
  conn.body.clear();
  conn.charge.release();
  if (req.framing == http::BodyFraming::None ||
      (req.framing == http::BodyFraming::ContentLength && req.content_length == 0))
    return Step::Dispatch;
  if (req.framing == http::BodyFraming::Chunked) conn.chunked.reset();
  if (req.framing == http::BodyFraming::ContentLength) {
    if (!charge_known_length(conn)) return Step::Wait;  // rejected: lingers
    if (conn.body.in_memory()) conn.body.expect(req.content_length);
  }
  conn.state = ConnState::ReadingBody;
  conn.deadline = Clock::now() + body_timeout_;
  const std::size_t buffered = conn.buf.size() - req.head_length;
  const bool all_here =
      req.framing == http::BodyFraming::ContentLength && buffered >= req.content_length;
  if (req.expect_continue && !all_here && !conn.continue_sent) {
    // RFC 9110 §10.1.1: tell the client to send the body; it is read here, in the loop,
    // so "100 Continue" always precedes the final response.
    send_all_now(conn.io(), http::kContinueResponse);
    conn.continue_sent = true;
  }
  return std::nullopt;
}

bool HttpConnection::charge_known_length(Connection& conn) {
  // Charged in full now, so a body past the budget is refused before 100-continue asks
  // the client to send it. A body up to the body's memory limit stays in memory; a longer
  // one spills past that limit. When memory is spent the body goes to disk from its
  // first byte.
  const std::uint64_t length = conn.request.content_length;
  const std::uint64_t in_memory = conn.body.memory_limit();
  if (length <= in_memory ? conn.charge.set(length, 0) : conn.charge.set(in_memory, length))
    return true;
  if (length > budget_.disk_cap()) {
    reject(conn, 413, "body larger than --max-body-disk");
    return false;
  }
  if (!conn.charge.set(0, length)) {
    // Other uploads hold the budget now: a later retry can succeed (RFC 9110 §15.6.4).
    spdlog::warn(
        "Request body of {} bytes from {} refused with 503: this worker's bodies already hold "
        "{} of --max-body-disk {} bytes",
        length, conn.peer.remote_addr, budget_.disk_in_use(), budget_.disk_cap());
    reject(conn, 503, "--max-body-disk in use");
    return false;
  }
  if (!conn.body.spill_now()) {
    body_store_failed(conn);
    return false;
  }
  return true;
}

bool HttpConnection::charge_growth(Connection& conn) {
  // A chunked body's length is known only as it arrives: charged after each read (at most
  // one read's worth over the cap), moved to disk when memory is spent.
  auto& body = conn.body;
  const std::uint64_t size = body.size();
  if (body.in_memory()) {
    if (conn.charge.set(size, 0)) return true;
    if (!body.spill_now()) {
      body_store_failed(conn);
      return false;
    }
  }
  if (conn.charge.set(0, size)) return true;
  const bool alone = size > budget_.disk_cap();
  spdlog::warn("Chunked request body from {} refused with {} after {} bytes: {}",
               conn.peer.remote_addr, alone ? 413 : 503, size,
               alone ? "larger than --max-body-disk" : "this worker's bodies fill --max-body-disk");
  reject(conn, alone ? 413 : 503, "--max-body-disk");
  return false;
}

void HttpConnection::body_store_failed(Connection& conn) {
  // Logged with the directory: "a 20 MiB upload gets a 500 with nothing logged" was what
  // an operator saw of a full 64 MiB /dev/shm.
  const int error = conn.body.last_error();
  const bool full = error == ENOSPC || error == EDQUOT;
  const int status = full ? 507 : 500;
  spdlog::error(
      "Cannot store a request body from {} in --body-tmp-dir {}: {} ({} bytes received; answered "
      "{})",
      conn.peer.remote_addr, conn.body.spill_dir(), std::strerror(error), conn.body.size(), status);
  reject(conn, status, "cannot store the request body");
}

void HttpConnection::reject(Connection& conn, int status, std::string_view reason) {
  spdlog::debug("Invalid request from {}: {} ({})", conn.peer.remote_addr, status, reason);
  // Answer once, stop reading, close: nothing buffered behind a bad request is served.
  const std::string response = http::make_error_response(status);
  send_all_now(conn.io(), response);
  // Its access-log line. Only a complete head's fields are read: while the head is still
  // arriving, views of an earlier parse may point into a buffer a read has since moved.
  const auto now = Clock::now();
  const bool head_complete = conn.request.head_length > 0;
  const auto started = conn.request_started != Clock::time_point{} ? conn.request_started : now;
  const std::size_t body_bytes = response.size() - response.find("\r\n\r\n") - 4;
  http::Request line_only;
  if (!head_complete) request_line_for_log(conn.buf.view(), line_only);
  const http::Request& logged = head_complete ? conn.request : line_only;
  // An answer without the app is a request too for --metrics-bind (a 400 flood shows).
  metrics::recorder().request(logged.method, status, now - started);
  handler_.log_answer_without_app(
      logged, conn.peer, status, body_bytes,
      std::chrono::duration_cast<std::chrono::microseconds>(now - started));
  // Nothing of this request will be read: its body and budget go now.
  conn.body.clear();
  conn.charge.release();
  begin_linger(conn);
}

void HttpConnection::begin_linger(Connection& conn) {
  conn.io().shutdown_write();
  conn.state = ConnState::Lingering;
  conn.deadline = Clock::now() + kLingerTime;
  conn.buf.clear();
}

bool HttpConnection::reset_for_next(Connection& conn) {
  conn.buf.erase(0, conn.request.head_length);
  conn.request.clear();
  conn.parser.reset();
  conn.request_started = {};
  bool released = conn.body.clear();
  conn.charge.release();
  released = conn.buf.shrink_to(kKeepBuffer) || released;
  conn.continue_sent = false;
  return released;
}

}  // namespace gthreadd::worker
