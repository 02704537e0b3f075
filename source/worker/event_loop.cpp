#include "gthreadd/worker/event_loop.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <random>

#include <spdlog/spdlog.h>

#include "gthreadd/http/error_response.hpp"
#include "gthreadd/log/logger.hpp"
#include "gthreadd/worker/socket_writer.hpp"
#include "gthreadd/wsgi/server_hooks.hpp"

namespace gthreadd::worker {
namespace {

constexpr std::chrono::milliseconds kTick{200};
constexpr std::chrono::seconds kLingerTime{2};
// While stopping, how long a connection whose last response said keep-alive stays open for
// the request its client may already have sent (see on_returned).
constexpr std::chrono::milliseconds kLastCallWindow{1000};
constexpr std::size_t kReadChunk = 16 * 1024;
// Waiting for a head, the read buffer stops filling at this size (the parser asks for more
// if the head is longer): body bytes behind a head should go straight into the body.
constexpr std::size_t kHeadReadLimit = 48 * 1024;
// Read-buffer capacity a connection keeps between requests; more is released.
constexpr std::size_t kKeepBuffer = 64 * 1024;
constexpr int kMaxEvents = 128;
// How long an accepted connection without a request yet counts as load for the balanced
// accept: long enough for a request sent right after the handshake, short enough that
// clients connecting and sending nothing cannot keep a worker from accepting.
constexpr std::chrono::milliseconds kFreshWindow{100};
// While busy, how often to look whether connections wait unaccepted (check_overflow).
constexpr std::chrono::milliseconds kOverflowCheck{5};
// Out of file descriptors: how long before accepting is tried again when none of our own
// connections closed meanwhile.
constexpr std::chrono::milliseconds kFdRetry{1000};

// Connections waiting in a listener's accept queue. TCP_INFO on a listening socket
// reports the queue length in tcpi_unacked (Linux); a unix socket only says whether one
// waits, so it counts as --threads: a burst still drains in a few checks.
std::size_t accept_queue_length(const net::Listener& listener, int threads) {
  const int fd = listener.fd.get();
  if (!listener.is_unix) {
    tcp_info info{};
    socklen_t len = sizeof info;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 && info.tcpi_state == TCP_LISTEN)
      return info.tcpi_unacked;
  }
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) return 0;
  return static_cast<std::size_t>(std::max(1, threads));
}

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

// The settings were checked at start-up (config/), so a bad entry cannot get here; if one
// did, nobody is trusted.
core::AddressMatcher matcher_from(const std::vector<std::string>& entries) {
  std::string error;
  return core::AddressMatcher::parse(entries, error).value_or(core::AddressMatcher{});
}

http::ParseLimits limits_from(const config::Settings& s) {
  http::ParseLimits l;
  // gunicorn (message.py): the request line counts without its CRLF; 0 or anything from
  // 8190 up means 8190 here. (gunicorn's 0 leaves the line unbounded; we keep its maximum so
  // one line cannot grow without end. config/ clamps larger values with a warning.)
  l.request_line = s.limit_request_line > 0 && s.limit_request_line < 8190
                       ? static_cast<std::size_t>(s.limit_request_line) : 8190;
  // 0 or over 32768 fields means 32768, as gunicorn.
  l.fields = s.limit_request_fields > 0 && s.limit_request_fields <= 32768
                 ? static_cast<std::size_t>(s.limit_request_fields) : 32768;
  // A field line counts with its CRLF (and folded lines with theirs); gunicorn 23+ has no
  // maximum, and 0 turns the check off there, the head staying bounded by fields x 8192.
  // Here 0 means 64 KiB a field: bounded, and more than any real header needs.
  l.field_size =
      s.limit_request_field_size > 0 ? static_cast<std::size_t>(s.limit_request_field_size) : 65536;
  l.body = s.limit_request_body;
  l.permit_unconventional_method = s.permit_unconventional_http_method;
  l.casefold_method = s.casefold_http_method;
  l.permit_obsolete_folding = s.permit_obsolete_folding;
  l.strip_header_spaces = s.strip_header_spaces;
  // config/ accepts only these three words; anything else falls back to the strictest.
  l.header_map = s.header_map == "drop"        ? http::HeaderMap::Drop
                 : s.header_map == "dangerous" ? http::HeaderMap::Dangerous
                                               : http::HeaderMap::Refuse;
  l.forwarder_headers = std::make_shared<const std::vector<std::string>>(s.forwarder_headers);
  return l;
}

}  // namespace

EventLoop::EventLoop(const config::Settings& settings, std::vector<net::Listener>& listeners,
                     wsgi::AppRunner& runner, const Heartbeat& heartbeat, tbb::task_arena& arena,
                     int signal_fd, FileWatcher* watcher, const wsgi::InterpreterProbe* probe)
    : settings_(settings),
      listeners_(listeners),
      runner_(runner),
      heartbeat_(heartbeat),
      arena_(arena),
      limits_(limits_from(settings)),
      spill_dir_(body_tmp_dir(settings)),
      body_budget_(settings.max_body_memory, settings.max_body_disk),
      proxy_mode_(http::parse_proxy_mode(settings.proxy_protocol).value_or(http::ProxyMode::Off)),
      proxy_allow_(matcher_from(settings.proxy_allow_ips)),
      forwarded_allow_(matcher_from(settings.forwarded_allow_ips)),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      signal_fd_(signal_fd),
      watcher_(watcher),
      probe_(probe),
      parent_pid_(::getppid()),
      send_timeout_(std::chrono::seconds(settings.timeout > 0 ? std::max(settings.timeout, 30) : 30)) {
  if (!epoll_) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
  listener_tags_.reserve(listeners_.size());
  for (std::size_t i = 0; i < listeners_.size(); ++i) listener_tags_.push_back({Tag::Listener, i});
  auto add = [&](int fd, EpollTag* tag) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = tag;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
  };
  add(signal_fd_, &signal_tag_);
  add(returns_.fd(), &returns_tag_);
  if (watcher_) add(watcher_->fd(), &reload_tag_);
  if (settings.max_requests > 0) {
    // gunicorn: max_requests + randint(0, jitter), so workers do not all restart at once.
    std::random_device rd;
    std::uniform_int_distribution<int> jitter(0, std::max(0, settings.max_requests_jitter));
    max_requests_ = static_cast<std::uint64_t>(settings.max_requests + jitter(rd));
  }
  start_pool_tasks();
}

EventLoop::~EventLoop() {
  // The pool tasks point at this loop: stop them and wait until the last one is out.
  run_queue_.close();
  std::unique_lock lock(pool_mutex_);
  pool_done_.wait(lock, [&] { return pool_tasks_ == 0; });
}

bool EventLoop::has_capacity() const {
  // Accept only what we can serve (DESIGN "Accept only what you can serve"): a worker whose
  // threads are all busy leaves new connections in the kernel queue for an idle sibling.
  // A connection just accepted brings a request: without counting it, a worker woken by
  // a burst of connects (wrk opens 50 at once) accepted all of them before the first
  // request arrived, and its sibling got none (sleepy: 4 of 8 threads busy, 198 req/s).
  return !stopping_ && !fds_exhausted_ && in_flight_ + fresh_ < static_cast<std::size_t>(settings_.threads) &&
         open_connections() < static_cast<std::size_t>(settings_.worker_connections);
}

void EventLoop::update_listeners() {
  const bool want = has_capacity();
  if (want == listening_) return;
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    if (!listeners_[i].fd) continue;
    if (want) {
      epoll_event ev{};
      // EPOLLEXCLUSIVE: one worker woken per new connection, not the whole herd.
      ev.events = EPOLLIN | EPOLLEXCLUSIVE;
      ev.data.ptr = &listener_tags_[i];
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, listeners_[i].fd.get(), &ev);
    } else {
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, listeners_[i].fd.get(), nullptr);
    }
  }
  listening_ = want;
}

int EventLoop::run() {
  update_listeners();
  next_tick_ = Clock::now() + kTick;
  std::vector<epoll_event> events(kMaxEvents);
  while (!quick_exit_) {
    if (stopping_ && in_flight_ == 0 && owned_.empty()) break;
    if (stopping_ && Clock::now() >= stop_deadline_) {
      spdlog::warn("Graceful timeout reached with {} request(s) in flight", in_flight_);
      break;
    }
    const auto wake_at = overflow_check_ != Clock::time_point{} ? std::min(next_tick_, overflow_check_) : next_tick_;
    // Rounded up: rounded down, the last partial millisecond was a busy loop of
    // zero-timeout waits.
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake_at - Clock::now());
    int timeout = static_cast<int>(std::clamp<std::int64_t>(wait.count(), 0, kTick.count()));
    int n = ::epoll_wait(epoll_.get(), events.data(), kMaxEvents, timeout);
    if (n < 0 && errno != EINTR) {
      spdlog::error("epoll_wait: {}", std::strerror(errno));
      return 1;
    }
    // Before any connection event: a quietly returned connection is registered, so its next
    // request may be among these events, and the loop must own it by then.
    collect_returns(false);
    for (int i = 0; i < n; ++i) {
      void* ptr = events[i].data.ptr;
      if (ptr == &signal_tag_) {
        handle_signals();
      } else if (ptr == &reload_tag_) {
        if (auto file = watcher_->changed_file(); !file.empty() && !stopping_) {
          spdlog::info("Worker reloading: {} modified", file);
          begin_graceful_stop("Worker exiting (pid: {})");
        }
      } else if (ptr == &returns_tag_) {
        collect_returns(true);
      } else if (auto* tag = static_cast<EpollTag*>(ptr);
                 tag >= listener_tags_.data() && tag < listener_tags_.data() + listener_tags_.size()) {
        accept_from(tag->index);
      } else {
        on_readable(static_cast<Connection*>(ptr), events[i].events);
      }
    }
    if (Clock::now() >= next_tick_) tick();
    run_queue_.set_crowded(open_connections() > static_cast<std::size_t>(settings_.threads));
    update_listeners();
    check_overflow();
  }
  return 0;
}

void EventLoop::check_overflow() {
  // Busy, so not listening: connections wait in the kernel for a sibling with a free
  // thread. When every worker is busy none has one, and a connection could wait there
  // for seconds while the accepted keep-alive connections take turns (sleepy: p99 1-2 s,
  // p50 40 ms). Connections seen waiting on two checks kOverflowCheck apart are taken
  // anyway and their requests queue behind the others in arrival order: this worker's
  // share of them (the queue over --workers, at most --threads per check), so that a
  // burst of connects (wrk opens 50 at once) is spread over the workers in a few checks.
  // Taking one per 10 ms and worker, the last of 42 waited ~200 ms: that was the p99 of
  // every keep-alive scenario in the load tests.
  if (listening_ || stopping_ || fds_exhausted_ ||
      open_connections() >= static_cast<std::size_t>(settings_.worker_connections)) {
    overflow_check_ = {};
    overflow_seen_ = false;
    return;
  }
  const auto now = Clock::now();
  if (overflow_check_ == Clock::time_point{}) {
    overflow_check_ = now + kOverflowCheck;
    return;
  }
  if (now < overflow_check_) return;
  overflow_check_ = now + kOverflowCheck;
  bool waiting = false;
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    if (!listeners_[i].fd) continue;
    const std::size_t queued = accept_queue_length(listeners_[i], settings_.threads);
    if (queued == 0) continue;
    waiting = true;
    if (!overflow_seen_) continue;
    // At most --threads per check: whichever worker looks first would otherwise take the
    // bigger part of a burst (33 vs 17 connections, and keep-alive keeps them there).
    const std::size_t workers = static_cast<std::size_t>(std::max(1, settings_.workers));
    const std::size_t share = std::min<std::size_t>((queued + workers - 1) / workers,
                                                    static_cast<std::size_t>(std::max(1, settings_.threads)));
    for (std::size_t taken = 0; taken < share; ++taken) {
      if (open_connections() >= static_cast<std::size_t>(settings_.worker_connections)) break;
      const int fd = ::accept4(listeners_[i].fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {  // EAGAIN: a sibling took the rest
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) out_of_fds(errno);
        break;
      }
      add_connection(core::UniqueFd(fd), i);
    }
  }
  overflow_seen_ = waiting;
}

void EventLoop::accept_from(std::size_t index) {
  auto& listener = listeners_[index];
  // Take only as many as there are free threads: the rest stay queued in the kernel where
  // a sibling worker with free threads can take them.
  std::size_t budget = std::max<std::size_t>(
      1, settings_.threads - std::min<std::size_t>(in_flight_ + fresh_, settings_.threads));
  for (std::size_t i = 0; i < budget && has_capacity(); ++i) {
    int fd = ::accept4(listener.fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) out_of_fds(errno);
      return;
    }
    add_connection(core::UniqueFd(fd), index);
  }
}

void EventLoop::out_of_fds(int error) {
  // The listener stays readable while the queue holds connections, so retrying at once
  // spins (656k log lines in 3 s, 45 % CPU): stop accepting until a connection of ours
  // closes or kFdRetry passes (fds may also be freed by the app), and say so once.
  if (!fd_episode_)
    spdlog::error("accept: {}: not accepting new connections until file descriptors free up "
                  "({} open here; raise the fd limit (ulimit -n, LimitNOFILE=) or lower --worker-connections)",
                  std::strerror(error), open_connections());
  fds_exhausted_ = true;
  fd_episode_ = true;
  fds_retry_at_ = Clock::now() + kFdRetry;
  update_listeners();
}

void EventLoop::fds_freed() { fds_exhausted_ = false; }

void EventLoop::add_connection(core::UniqueFd fd, std::size_t listener_index) {
  if (fd_episode_) {
    fd_episode_ = false;
    spdlog::info("Accepting new connections again ({} open here)", open_connections());
  }
  const auto& listener = listeners_[listener_index];
  auto conn = std::make_unique<Connection>(std::move(fd), limits_, spill_dir_, &body_budget_);
  auto& peer = conn->peer;
  peer.unix_socket = listener.is_unix;
  if (listener.is_unix) {
    peer.server_name = listener.address.path;
  } else {
    int one = 1;  // responses go out in one writev; Nagle would only add latency
    ::setsockopt(conn->fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    peer.server_name = listener.address.host;
    peer.server_port = std::to_string(listener.address.port);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(conn->fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
      char text[INET6_ADDRSTRLEN] = {};
      if (ss.ss_family == AF_INET) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        ::inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
        peer.remote_port = ntohs(sin->sin_port);
      } else if (ss.ss_family == AF_INET6) {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        ::inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
        peer.remote_port = ntohs(sin6->sin6_port);
      }
      peer.remote_addr = text;
    }
  }
  // Judged on the socket's peer, the proxy in front, as gunicorn judges forwarders.
  conn->parser.set_trusted_forwarder(forwarded_allow_.allows_peer(peer.remote_addr, peer.unix_socket));
  if (proxy_mode_ != http::ProxyMode::Off)
    conn->proxy.emplace(proxy_mode_, proxy_allow_.allows_peer(peer.remote_addr, peer.unix_socket));
  conn->state = ConnState::Idle;
  conn->accepted_at = Clock::now();
  conn->deadline = conn->accepted_at + seconds_to_ms(settings_.header_timeout);
  conn->fresh = true;
  ++fresh_;
  Connection* raw = conn.get();
  early_events_.erase(raw);  // an event noted for a closed connection at this address
  owned_.emplace(raw, std::move(conn));
  // The request often arrives with the handshake: try it now and save an epoll round trip.
  // The fd joins epoll only when it must wait for bytes (arm) or will be kept alive
  // (dispatch): a connection answered and closed never costs an epoll_ctl.
  on_readable(raw, 0);
}

void EventLoop::arm(Connection* conn) {
  // Edge-triggered, registered once for the connection's life: a new arrival always
  // reports an edge, so waiting for the next request costs no system call. One-shot
  // re-arming was an epoll_ctl per request, 13 % of a worker's CPU in hello (perf, issue 4).
  // An edge is new bytes only: where the last read stopped before the socket was drained
  // (`recheck`), EPOLL_CTL_MOD re-polls the socket and reports what is already there.
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = conn;
  if (!conn->registered) {
    conn->registered = ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, conn->fd.get(), &ev) == 0;
    conn->recheck = false;
  } else if (conn->recheck) {
    conn->recheck = false;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, conn->fd.get(), &ev);
  }
}

bool EventLoop::read_body_direct(Connection& conn, bool& eof) {
  auto& body = conn.body;
  std::size_t got = 0;
  bool ok = true;
  bool drained = false;  // a short read, EAGAIN or EOF: no bytes left that no edge reports
  // At most 256 KiB per round, as read_available: fairness to the other connections.
  while (got < 256 * 1024) {
    const auto want = static_cast<std::size_t>(conn.request.content_length - body.size());
    // Up to the end of the body's current piece (each piece may become a bytes object).
    const std::span<char> room = body.prepare(want);
    if (room.empty()) break;  // the body is complete; what follows stays in the socket
    const ssize_t n = ::recv(conn.fd.get(), room.data(), room.size(), 0);
    if (n > 0) {
      body.commit(static_cast<std::size_t>(n));
      got += static_cast<std::size_t>(n);
      if (static_cast<std::size_t>(n) < room.size()) { drained = true; break; }
      continue;
    }
    drained = true;
    if (n == 0) { eof = true; break; }
    if (errno == EINTR) { drained = false; continue; }
    if (errno != EAGAIN && errno != EWOULDBLOCK) ok = false;
    break;
  }
  if (!drained) conn.recheck = true;
  if (got > 0) conn.deadline = Clock::now() + seconds_to_ms(settings_.body_timeout);
  return ok;
}

bool EventLoop::read_available(Connection& conn, bool& eof) {
  eof = false;
  conn.recheck = false;  // this read tells anew whether bytes are left behind
  // A body of known length that fits in memory, with nothing of it left in the read
  // buffer: receive it where it is going (one memcpy less per byte, and the read buffer
  // does not grow to the body's size).
  if (conn.state == ConnState::ReadingBody && conn.request.framing == http::BodyFraming::ContentLength &&
      conn.buf.size() == conn.request.head_length && conn.body.in_memory() &&
      conn.request.content_length <= conn.body.reserved())
    return read_body_direct(conn, eof);
  // Reading a body: the parsed request owns a copy of its head (http::Request), so the
  // buffer may grow and move under it.
  const bool views_live = conn.state == ConnState::ReadingBody;
  for (;;) {
    char* dst = conn.buf.prepare(kReadChunk);
    const std::size_t room = conn.buf.free_space();
    ssize_t n = ::recv(conn.fd.get(), dst, room, 0);
    if (n > 0) {
      conn.buf.commit(static_cast<std::size_t>(n));
      // A short read took all the socket had: TCP hands over everything queued.
      if (static_cast<std::size_t>(n) < room) break;
      // A single request head or body slice is plenty per round; fairness to others.
      // Bytes may be left behind, and the edge that announced them is spent: arm() re-polls.
      if (conn.buf.size() >= 256 * 1024 || (!views_live && conn.buf.size() >= kHeadReadLimit)) {
        conn.recheck = true;
        break;
      }
      continue;
    }
    if (n == 0) { eof = true; break; }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    return false;  // ECONNRESET and friends
  }
  return true;
}

void EventLoop::on_readable(Connection* conn, std::uint32_t events) {
  // An event can name a connection a pool task owns (its fd stays registered while the
  // request runs), or one closed earlier in this batch. Neither is touched: the event
  // is noted, and the socket re-polled when the connection comes back (on_returned).
  if (owned_.find(conn) == owned_.end()) {
    collect_returns(false);
    if (owned_.find(conn) == owned_.end()) {
      early_events_.insert(conn);
      return;
    }
  }
  bool eof = false;
  if (conn->state == ConnState::Lingering) {
    char sink[4096];
    for (;;) {
      ssize_t n = ::recv(conn->fd.get(), sink, sizeof sink, 0);
      if (n > 0) continue;
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) { arm(conn); return; }
      close_connection(conn);
      return;
    }
  }
  if (!read_available(*conn, eof)) {
    close_connection(conn);
    return;
  }
  // The peer's FIN is reported once, often with the last bytes, which a short read takes
  // without seeing the end: look for it now, or the connection would wait out its
  // keep-alive deadline. A recv says it, not the event flag: the event may be a stale
  // one for a closed connection whose address this one took.
  // A reset behind the last bytes is reported the same way, and this recv is what takes the
  // socket's error (it is cleared once read): a -1 other than EAGAIN means the peer is gone,
  // so the connection closes now. Ignoring it kept a half-uploaded request's fd, slot and
  // body until its deadline; with edge-triggered epoll no later event would tell again.
  if (!eof && !conn->recheck && (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
    char probe;
    const ssize_t n = ::recv(conn->fd.get(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) {
      eof = true;
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      spdlog::debug("Connection from {} reset: {}", conn->peer.remote_addr, std::strerror(errno));
      close_connection(conn);
      return;
    }
  }
  if (eof) conn->peer_closed = true;
  process(conn, eof);
}

void EventLoop::process(Connection* conn, bool eof) {
  // A recv saw the end: every byte the peer sent is in buf (on_readable).
  if (conn->peer_closed) eof = true;
  for (;;) {
    switch (conn->state) {
      case ConnState::Idle:
      case ConnState::ReadingHead: {
        if (conn->buf.empty()) {
          if (eof || (stopping_ && Clock::now() >= conn->deadline)) { close_connection(conn); return; }
          arm(conn);
          return;
        }
        if (conn->state == ConnState::Idle) {
          // The header deadline counts from the first byte of the head (gunicorn's is per
          // read; a per-request bound is what stops slowloris).
          conn->state = ConnState::ReadingHead;
          conn->request_started = Clock::now();
          conn->deadline = conn->request_started + seconds_to_ms(settings_.header_timeout);
        }
        if (conn->proxy && !take_proxy_header(conn, eof)) return;
        auto status = conn->parser.parse(conn->buf.view(), conn->request);
        if (status == http::ParseStatus::Error) {
          reject(conn, conn->parser.error().status, conn->parser.error().reason);
          return;
        }
        if (status == http::ParseStatus::Incomplete) {
          if (eof) { close_connection(conn); return; }  // client gave up mid-head
          arm(conn);
          return;
        }
        if (!start_body(*conn)) return;  // rejected
        break;
      }
      case ConnState::ReadingBody: {
        const std::size_t head_end = conn->request.head_length;
        std::string_view avail(conn->buf.data() + head_end, conn->buf.size() - head_end);
        bool done = false;
        std::size_t used = 0;
        if (conn->request.framing == http::BodyFraming::ContentLength) {
          std::uint64_t want = conn->request.content_length - conn->body.size();
          used = static_cast<std::size_t>(std::min<std::uint64_t>(want, avail.size()));
          if (used > 0 && !conn->body.append(avail.substr(0, used))) {
            body_store_failed(conn);
            return;
          }
          done = conn->body.size() == conn->request.content_length;
        } else {
          auto r = conn->chunked.feed(avail, conn->body);
          used = r.consumed;
          if (r.status == http::ChunkedDecoder::Status::Error) {
            if (conn->body.last_error() != 0) body_store_failed(conn);
            else reject(conn, conn->chunked.error_status(), conn->chunked.error_reason());
            return;
          }
          if (!charge_growth(conn)) return;
          done = r.status == http::ChunkedDecoder::Status::Done;
        }
        // Body bytes now live in conn->body: drop them from buf so a large upload is not
        // held twice. The head before head_end stays put until the response (reset_for_next).
        if (used > 0) {
          conn->buf.erase(head_end, used);
          conn->deadline = Clock::now() + seconds_to_ms(settings_.body_timeout);
        }
        if (done) {
          dispatch(conn);
          return;
        }
        // The client half-closed before the body was complete: that is a bad request, never
        // a short body handed to the app (issue 3).
        if (eof) { reject(conn, 400, "body ended before its end"); return; }
        arm(conn);
        return;
      }
      case ConnState::Running:
      case ConnState::Lingering:
        return;
    }
  }
}

bool EventLoop::take_proxy_header(Connection* conn, bool eof) {
  const http::ProxyResult result = conn->proxy->feed(conn->buf.view());
  switch (result.status) {
    case http::ProxyStatus::Incomplete:
      if (eof) close_connection(conn);
      else arm(conn);
      return false;
    case http::ProxyStatus::Absent:  // plain HTTP: a PROXY header is accepted, not required
      conn->proxy.reset();
      return true;
    case http::ProxyStatus::Done: {
      // REMOTE_ADDR/REMOTE_PORT and the access log's %(h)s are the client's, as the proxy saw it.
      const http::ProxyHeader& header = conn->proxy->header();
      if (!header.use_real_peer) {
        conn->peer.remote_addr = header.source_addr;
        conn->peer.remote_port = header.source_port;
        // Behind a TCP proxy the HTTP fields are the client's own: the client, not the
        // proxy, is judged as a forwarder, here as in the environ (wsgi::EnvironBuilder).
        conn->parser.set_trusted_forwarder(forwarded_allow_.allows_peer(conn->peer.remote_addr, conn->peer.unix_socket));
      }
      conn->buf.erase(0, result.consumed);
      conn->proxy.reset();
      return true;
    }
    case http::ProxyStatus::Forbidden:
      // gunicorn's ForbiddenProxyRequest: the peer is not in --proxy-allow-from.
      spdlog::debug("PROXY header from {} refused: not in --proxy-allow-from", conn->peer.remote_addr);
      conn->proxy.reset();
      reject(conn, 403, "PROXY header from a peer not allowed to send one");
      return false;
    case http::ProxyStatus::Error:
      spdlog::debug("Invalid PROXY header from {}: {}", conn->peer.remote_addr, conn->proxy->error());
      conn->proxy.reset();
      reject(conn, 400, "invalid PROXY header");
      return false;
  }
  return false;
}

bool EventLoop::start_body(Connection& conn) {
  auto& req = conn.request;
  conn.body.clear();
  conn.charge.release();
  if (req.framing == http::BodyFraming::None ||
      (req.framing == http::BodyFraming::ContentLength && req.content_length == 0)) {
    dispatch(&conn);
    return false;  // dispatched: the loop must not touch it any more
  }
  if (req.framing == http::BodyFraming::Chunked) conn.chunked.reset();
  if (req.framing == http::BodyFraming::ContentLength) {
    if (!charge_known_length(conn)) return false;  // rejected
    if (conn.body.in_memory()) conn.body.expect(req.content_length);
  }
  conn.state = ConnState::ReadingBody;
  conn.deadline = Clock::now() + seconds_to_ms(settings_.body_timeout);
  const std::size_t buffered = conn.buf.size() - req.head_length;
  const bool all_here = req.framing == http::BodyFraming::ContentLength && buffered >= req.content_length;
  if (req.expect_continue && !all_here && !conn.continue_sent) {
    // RFC 9110 §10.1.1: tell the client to send the body; it is read here, in the loop,
    // so "100 Continue" always precedes the final response.
    [[maybe_unused]] auto n = ::send(conn.fd.get(), http::kContinueResponse.data(),
                                     http::kContinueResponse.size(), MSG_NOSIGNAL);
    conn.continue_sent = true;
  }
  return true;
}

bool EventLoop::charge_known_length(Connection& conn) {
  // Charged in full now, so a body past the budget is refused before 100-continue asks
  // the client to send it. A body up to the body's memory limit stays in memory; a longer
  // one spills past that limit. When memory is spent the body goes to disk from its
  // first byte.
  const std::uint64_t length = conn.request.content_length;
  const std::uint64_t in_memory = conn.body.memory_limit();
  if (length <= in_memory ? conn.charge.set(length, 0) : conn.charge.set(in_memory, length)) return true;
  if (length > body_budget_.disk_cap()) {
    reject(&conn, 413, "body larger than --max-body-disk");
    return false;
  }
  if (!conn.charge.set(0, length)) {
    // Other uploads hold the budget now: a later retry can succeed (RFC 9110 §15.6.4).
    spdlog::warn("Request body of {} bytes from {} refused with 503: this worker's bodies already hold "
                 "{} of --max-body-disk {} bytes", length, conn.peer.remote_addr, body_budget_.disk_in_use(),
                 body_budget_.disk_cap());
    reject(&conn, 503, "--max-body-disk in use");
    return false;
  }
  if (!conn.body.spill_now()) {
    body_store_failed(&conn);
    return false;
  }
  return true;
}

bool EventLoop::charge_growth(Connection* conn) {
  // A chunked body's length is known only as it arrives: charged after each read (at most
  // one read's worth over the cap), moved to disk when memory is spent.
  auto& body = conn->body;
  const std::uint64_t size = body.size();
  if (body.in_memory()) {
    if (conn->charge.set(size, 0)) return true;
    if (!body.spill_now()) {
      body_store_failed(conn);
      return false;
    }
  }
  if (conn->charge.set(0, size)) return true;
  const bool alone = size > body_budget_.disk_cap();
  spdlog::warn("Chunked request body from {} refused with {} after {} bytes: {}", conn->peer.remote_addr,
               alone ? 413 : 503, size,
               alone ? "larger than --max-body-disk" : "this worker's bodies fill --max-body-disk");
  reject(conn, alone ? 413 : 503, "--max-body-disk");
  return false;
}

void EventLoop::body_store_failed(Connection* conn) {
  // Logged with the directory: "a 20 MiB upload gets a 500 with nothing logged" was what
  // an operator saw of a full 64 MiB /dev/shm.
  const int error = conn->body.last_error();
  const bool full = error == ENOSPC || error == EDQUOT;
  const int status = full ? 507 : 500;
  spdlog::error("Cannot store a request body from {} in --body-tmp-dir {}: {} ({} bytes received; answered {})",
                conn->peer.remote_addr, conn->body.spill_dir(), std::strerror(error), conn->body.size(), status);
  reject(conn, status, "cannot store the request body");
}

void EventLoop::dispatch(Connection* conn) {
  auto it = owned_.find(conn);
  std::unique_ptr<Connection> owned = std::move(it->second);
  owned_.erase(it);
  end_fresh(*conn);
  conn->state = ConnState::Running;
  auto& req = conn->request;
  // Keep-alive slots are worker_connections - threads; gunicorn gthread semantics for
  // --keep-alive 0 (no keep-alive) and for a worker on its way out.
  const std::size_t keepalive_slots =
      static_cast<std::size_t>(std::max(1, settings_.worker_connections - settings_.threads));
  if (settings_.keepalive <= 0 || stopping_ || retiring_ ||
      open_connections() + 1 > keepalive_slots + settings_.threads)
    req.keep_alive = false;
  // Registered before the pool has it, so a next request sent while this one runs is
  // reported (early_events_). A connection that will close never needs it.
  if (req.keep_alive) arm(conn);
  ++in_flight_;
  busy_.fetch_add(1, std::memory_order_relaxed);
  run_queue_.push(std::move(owned));
}

void EventLoop::start_pool_tasks() {
  const int threads = std::max(1, settings_.threads);
  {
    std::lock_guard lock(pool_mutex_);
    pool_tasks_ = threads;
  }
  // One task per arena thread, each for the worker's life: the arena is sized to
  // --threads, so all of them run at once and --threads requests can be in the app.
  for (int i = 0; i < threads; ++i) {
    arena_.enqueue([this] {
      while (auto conn = run_queue_.pop()) {
        serve(*conn);
        if (return_quietly(*conn)) {
          // Its fd stayed registered: the next request wakes the loop, which collects
          // the connection first (EventLoop::run).
          returns_.push_quiet(std::move(conn));
        } else {
          returns_.push(std::move(conn));
        }
      }
      std::lock_guard lock(pool_mutex_);
      if (--pool_tasks_ == 0) pool_done_.notify_all();
    });
  }
}

void EventLoop::collect_returns(bool woken) {
  if (woken) returns_.drain(returned_scratch_);
  else returns_.take(returned_scratch_);
  for (auto& c : returned_scratch_) on_returned(std::move(c));
  returned_scratch_.clear();
}

void EventLoop::reset_for_next(Connection& conn) {
  conn.buf.erase(0, conn.request.head_length);
  conn.request.clear();
  conn.parser.reset();
  conn.request_started = {};
  bool released = conn.body.clear();
  conn.charge.release();
  released = conn.buf.shrink_to(kKeepBuffer) || released;
  conn.released_large = released;
  conn.continue_sent = false;
}

bool EventLoop::return_quietly(Connection& conn) {
  // Only the plain case: kept alive, nothing pipelined behind the request (that must be
  // parsed by the loop now, not when more bytes come), and no stop or retirement under
  // way (the loop must hear of the last requests at once). And not the request that frees
  // the first thread of a full pool: the loop stopped listening when the pool filled
  // (has_capacity) and must start again now, not at its next wake-up (a new connection
  // to a --threads 1 worker would wait up to kOverflowCheck). Everything else wakes the loop.
  const std::size_t before = busy_.fetch_sub(1, std::memory_order_acq_rel);
  if (before == static_cast<std::size_t>(std::max(1, settings_.threads))) return false;
  if (!conn.keep_alive || !conn.registered || conn.buf.size() > conn.request.head_length || max_requests_ > 0 ||
      !quiet_returns_.load(std::memory_order_acquire))
    return false;
  reset_for_next(conn);
  conn.quiet_return = true;
  return true;
}

void EventLoop::serve(Connection& conn) {
  SocketWriter writer(conn.fd.get(), send_timeout_);
  try {
    auto outcome = runner_.handle(conn.request, conn.body, conn.peer, writer);
    conn.keep_alive = outcome.keep_alive;
    if (writer.timed_out())
      spdlog::info("Client {} read nothing for {} s: dropped before the end of the response to {} {}",
                   conn.peer.remote_addr.empty() ? conn.peer.server_name : conn.peer.remote_addr,
                   send_timeout_.count() / 1000, conn.request.method, conn.request.target);
  } catch (const std::exception& e) {
    spdlog::error("Error handling request: {}", e.what());
    conn.keep_alive = false;
  }
}

void EventLoop::on_returned(std::unique_ptr<Connection> owned) {
  --in_flight_;
  ++served_;
  Connection* conn = owned.get();
  owned_.emplace(conn, std::move(owned));
  // An edge reported while the pool had it was not acted on: re-poll the socket at the
  // next arm().
  if (early_events_.erase(conn) > 0) conn->recheck = true;
  if (max_requests_ > 0 && served_ >= max_requests_ && !retiring_) {
    // Ask the master for a successor and keep serving until it sends TERM; stop on our
    // own only if no TERM comes (an old master, say) within the graceful timeout.
    spdlog::info("Autorestarting worker after current request.");
    retiring_ = true;
    retire_deadline_ = Clock::now() + std::chrono::seconds(std::max(5, settings_.graceful_timeout));
    heartbeat_.request_retirement();
  }
  if (!conn->keep_alive) {
    // Pipelined bytes behind the last answered request would turn our close into a reset
    // that can destroy the response in flight: half-close and drain instead.
    if (conn->buf.size() > conn->request.head_length) begin_linger(conn);
    else close_connection(conn);
    return;
  }
  const bool quiet = conn->quiet_return;
  conn->quiet_return = false;
  if (!quiet) reset_for_next(*conn);
  if (conn->released_large) ++large_released_;
  ++conn->served;
  conn->state = ConnState::Idle;
  // Stopping: this response still said keep-alive (its request came before the stop), so
  // the client may be sending the next request right now. Closing at once would cross it
  // on the wire and the client would see its request dropped with no answer; instead a
  // request arriving within a short window is served, with Connection: close (dispatch).
  const auto keepalive = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::seconds(settings_.keepalive));
  conn->deadline = Clock::now() + (stopping_ ? std::min(keepalive, std::chrono::milliseconds(kLastCallWindow)) : keepalive);
  if (quiet && !stopping_) {
    // Registered, buffer empty: wait for the next edge (re-polled if one came early).
    arm(conn);
    return;
  }
  process(conn, false);
}

void EventLoop::reject(Connection* conn, int status, std::string_view reason) {
  spdlog::debug("Invalid request from {}: {} ({})", conn->peer.remote_addr, status, reason);
  // Answer once, stop reading, close: nothing buffered behind a bad request is served.
  const std::string response = http::make_error_response(status);
  [[maybe_unused]] auto n = ::send(conn->fd.get(), response.data(), response.size(), MSG_NOSIGNAL);
  // Its access-log line. Only a complete head's fields are read: while the head is still
  // arriving, views of an earlier parse may point into a buffer a read has since moved.
  const auto now = Clock::now();
  const bool head_complete = conn->request.head_length > 0;
  const auto started = conn->request_started != Clock::time_point{} ? conn->request_started : now;
  const std::size_t body_bytes = response.size() - response.find("\r\n\r\n") - 4;
  http::Request line_only;
  if (!head_complete) request_line_for_log(conn->buf.view(), line_only);
  runner_.log_answer_without_app(head_complete ? conn->request : line_only, conn->peer, status, body_bytes,
                                 std::chrono::duration_cast<std::chrono::microseconds>(now - started));
  // Nothing of this request will be read: its body and budget go now.
  conn->body.clear();
  conn->charge.release();
  begin_linger(conn);
}

void EventLoop::begin_linger(Connection* conn) {
  ::shutdown(conn->fd.get(), SHUT_WR);
  conn->state = ConnState::Lingering;
  conn->deadline = Clock::now() + kLingerTime;
  conn->buf.clear();
  arm(conn);
}

void EventLoop::end_fresh(Connection& conn) {
  if (!conn.fresh) return;
  conn.fresh = false;
  --fresh_;
}

void EventLoop::close_connection(Connection* conn) {
  end_fresh(*conn);
  if (conn->buf.capacity() > kKeepBuffer || conn->body.capacity() > http::RequestBody::kKeepCapacity)
    ++large_released_;
  // Closing the fd removes it from epoll; the map owns and frees the connection.
  owned_.erase(conn);
  fds_freed();
}

void EventLoop::tick() {
  const auto now = Clock::now();
  next_tick_ = now + kTick;
  // --timeout as gunicorn's gthread worker means it: the worker is timed out when its loop
  // is stuck (then this tick does not run) or its interpreter cannot be entered, the GIL
  // held by C code, for that long. Long requests and slow downloads are progress: timing a
  // worker out because all its threads were busy for --timeout killed every response on it.
  const bool stuck = settings_.timeout > 0 && probe_ != nullptr &&
                     now - probe_->last_entered() > std::chrono::seconds(settings_.timeout);
  if (stuck && !interpreter_stuck_)
    spdlog::critical("The interpreter could not be entered for {} s (the GIL held by C code): "
                     "the worker stops its heartbeat and will be timed out", settings_.timeout);
  interpreter_stuck_ = stuck;
  if (!stuck) heartbeat_.beat();
  // gunicorn's workers compare their parent pid at every notify: a master killed with -9
  // must not leave its workers serving (and holding the port) forever.
  if (!stopping_ && ::getppid() != parent_pid_) {
    spdlog::info("Parent changed, shutting down: pid {}", ::getpid());
    begin_graceful_stop("Worker exiting (pid: {})");
  }
  // Large buffers freed go back to malloc, not to the kernel (glibc keeps them in its
  // arenas; its mmap threshold rises after the first large free). Once a burst of large
  // requests is over (a tick without one), hand the free pages back: PSS per worker after
  // an upload run was 48 MiB (issue 4). Not during the burst, where the next request
  // would fault the same pages in again.
  if (large_released_ == 0 && trim_pending_) {
    ::malloc_trim(0);
    trim_pending_ = false;
  }
  if (large_released_ > 0) trim_pending_ = true;
  large_released_ = 0;
  if (fds_exhausted_ && now >= fds_retry_at_) fds_freed();
  if (retiring_ && !stopping_ && now >= retire_deadline_) begin_graceful_stop("Worker exiting (pid: {})");
  std::vector<Connection*> expired;
  for (auto& [raw, conn] : owned_) {
    if (conn->fresh && now - conn->accepted_at >= kFreshWindow) end_fresh(*conn);
    if (conn->state == ConnState::Running || now < conn->deadline) continue;
    expired.push_back(raw);
  }
  for (Connection* conn : expired) {
    switch (conn->state) {
      case ConnState::ReadingHead:
      case ConnState::ReadingBody:
        reject(conn, 408, "request deadline passed");
        break;
      default:
        close_connection(conn);
    }
  }
}

void EventLoop::handle_signals() {
  signalfd_siginfo info{};
  while (::read(signal_fd_, &info, sizeof info) == sizeof info) {
    switch (info.ssi_signo) {
      case SIGTERM:
        begin_graceful_stop("Worker exiting (pid: {})");
        break;
      case SIGINT:
      case SIGQUIT:
        wsgi::call_worker_hook(wsgi::Hook::WorkerInt);
        quick_exit_ = true;
        break;
      case SIGUSR1:
        log::reopen_logs();
        break;
      default:
        break;
    }
  }
}

void EventLoop::begin_graceful_stop(const char* why) {
  if (stopping_) return;
  stopping_ = true;
  quiet_returns_.store(false, std::memory_order_release);
  collect_returns(false);  // returned quietly a moment ago: treat as returned now
  stop_deadline_ = Clock::now() + std::chrono::seconds(settings_.graceful_timeout);
  spdlog::info(fmt::runtime(why), ::getpid());
  update_listeners();
  for (auto& l : listeners_) l.fd.reset();  // our copies only; the master keeps its own
  // Idle keep-alive connections carry no request: close them now instead of waiting out
  // their timeout (a slow graceful stop otherwise). Requests already arriving finish, and
  // so do two kinds of "idle" connection that do carry one: bytes already in the socket
  // are a request sent before the client could know we stop, and a connection accepted
  // but not yet read from was opened for a request on its way. Closing either loses a
  // request the client cannot tell was never seen (gunicorn gthread drops both).
  // A connection answered less than kLastCallWindow ago gets the rest of that window, as
  // in on_returned: its client is likely between two requests, not done.
  const auto now = Clock::now();
  const auto keepalive = std::chrono::seconds(settings_.keepalive);
  std::vector<Connection*> idle;
  for (auto& [raw, conn] : owned_)
    if (conn->state == ConnState::Idle || conn->state == ConnState::Lingering) idle.push_back(raw);
  for (Connection* c : idle) {
    if (c->state == ConnState::Idle) {
      bool eof = false;
      if (!read_available(*c, eof)) { close_connection(c); continue; }
      if (!c->buf.empty() || (c->served == 0 && !eof)) { process(c, eof); continue; }
      const auto answered_at = c->deadline - keepalive;  // on_returned set keepalive ahead
      if (!eof && now - answered_at < kLastCallWindow) {
        c->deadline = answered_at + kLastCallWindow;
        continue;  // still registered for its next request
      }
    }
    close_connection(c);
  }
}

}  // namespace gthreadd::worker
