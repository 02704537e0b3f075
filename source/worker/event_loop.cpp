#include "gthreadd/worker/event_loop.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "gthreadd/core/assert.hpp"
#include "gthreadd/http/error_response.hpp"
#include "gthreadd/tls/server_tls.hpp"
#include "gthreadd/worker/parse_limits.hpp"

namespace gthreadd::worker {
namespace {

constexpr int kMaxEvents = 128;

std::chrono::milliseconds send_timeout_from(const config::Settings& settings) {
  return std::chrono::seconds(settings.timeout > 0 ? std::max(settings.timeout, 30) : 30);
}

// The peer's address and port, for REMOTE_ADDR and the access log.
void fill_peer(int fd, wsgi::PeerInfo& peer) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return;
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

}  // namespace

EventLoop::EventLoop(const config::Settings& settings, std::vector<net::Listener>& listeners,
                     RequestHandler& handler, const Heartbeat& heartbeat, tbb::task_arena& arena,
                     int signal_fd, FileWatcher* watcher, const wsgi::InterpreterProbe* probe,
                     RequestWatch* request_watch)
    : settings_(settings),
      heartbeat_(heartbeat),
      limits_(limits_from(settings)),
      spill_dir_(body_tmp_dir(settings)),
      body_budget_(settings.max_body_memory, settings.max_body_disk),
      proxy_mode_(http::parse_proxy_mode(settings.proxy_protocol).value_or(http::ProxyMode::Off)),
      proxy_allow_(matcher_from(settings.proxy_allow_ips)),
      forwarded_allow_(matcher_from(settings.forwarded_allow_ips)),
      listeners_(listeners),
      signal_fd_(signal_fd),
      watcher_(watcher),
      probe_(probe),
      request_watch_(request_watch && request_watch->limits_requests() ? request_watch : nullptr),
      parent_pid_(::getppid()),
      http_(settings, body_budget_, handler, forwarded_allow_),
      accept_(settings, listeners, poller_, *this),
      pool_(arena, handler, settings.threads, send_timeout_from(settings), request_watch) {
  auto watch = [&](int fd, char* tag, const char* what) {
    if (!poller_.add(fd, EPOLLIN, tag))
      throw std::runtime_error(std::string("epoll_ctl: ") + what + ": " + std::strerror(errno));
  };
  if (signal_fd_ >= 0) watch(signal_fd_, &signal_tag_, "signalfd");
  watch(pool_.wake_fd(), &returns_tag_, "eventfd");
  if (watcher_) watch(watcher_->fd(), &reload_tag_, "inotify");
  if (settings.max_requests > 0) {
    // gunicorn: max_requests + randint(0, jitter), so workers do not all restart at once.
    std::random_device rd;
    std::uniform_int_distribution<int> jitter(0, std::max(0, settings.max_requests_jitter));
    max_requests_ = static_cast<std::uint64_t>(settings.max_requests + jitter(rd));
    pool_.set_quiet_returns(false);  // every request must be counted as it finishes
  }
}

// The pool's tasks point at the loop's handler and connections: pool_ is the last member,
// so it is destroyed first, and its destructor waits for them.
EventLoop::~EventLoop() = default;

Load EventLoop::load() const {
  // A wedged worker (every thread past --request-timeout) takes no new connection, not even
  // its overflow share: nothing it accepted could start before its successor serves.
  return {pool_.outstanding() + fresh_, open_connections(), stopping_ || wedged_};
}

int EventLoop::run() {
  accept_.update_listeners();
  next_tick_ = Clock::now() + kTick;
  std::array<epoll_event, kMaxEvents> events{};
  const auto threads = static_cast<std::size_t>(std::max(1, settings_.threads));
  while (!quick_exit_) {
    if (stopping_ && owned_.empty() && pool_.idle()) break;
    if (stopping_ && Clock::now() >= stop_deadline_) {
      spdlog::warn("Graceful timeout reached with {} request(s) in flight", pool_.outstanding());
      break;
    }
    const auto check = accept_.next_check();
    auto wake_at = check != Clock::time_point{} ? std::min(next_tick_, check) : next_tick_;
    wake_at = std::min(wake_at, pool_.nudge_at());  // a request waits behind busy threads
    // Rounded up: rounded down, the last partial unit was a busy loop of zero-timeout waits.
    const auto wait = std::chrono::ceil<std::chrono::microseconds>(wake_at - Clock::now());
    const auto timeout = posted_.empty() ? std::clamp(wait, std::chrono::microseconds::zero(),
                                                      std::chrono::microseconds(kTick))
                                         : std::chrono::microseconds::zero();
    const int n = poller_.wait(events, timeout);
    if (n < 0) {
      spdlog::error("epoll_wait: {}", std::strerror(errno));
      return 1;
    }
    // Before any connection event: a quietly returned connection is registered, so its next
    // request may be among these events, and the loop must own it by then (Pool).
    collect_returns(false);
    for (int i = 0; i < n; ++i) handle_event(events[static_cast<std::size_t>(i)]);
    run_posted();
    const auto now = Clock::now();
    pool_.nudge(now);  // idle threads for what waits behind blocked ones (RunQueue)
    if (now >= next_tick_) tick();
    pool_.set_crowded(open_connections() > threads);
    accept_.update_listeners();
    accept_.check_overflow();
  }
  return 0;
}

void EventLoop::handle_event(const epoll_event& event) {
  void* ptr = event.data.ptr;
  if (ptr == &signal_tag_) {
    handle_signals();
  } else if (ptr == &reload_tag_) {
    if (auto file = watcher_->changed_file(); !file.empty() && !stopping_) {
      spdlog::info("Worker reloading: {} modified", file);
      begin_graceful_stop("Worker exiting (pid: {})");
    }
  } else if (ptr == &returns_tag_) {
    collect_returns(true);
  } else if (const auto index = accept_.listener_of(ptr)) {
    accept_.accept_from(*index);
  } else {
    on_readable(static_cast<Connection*>(ptr), event.events);
  }
}

void EventLoop::add_connection(core::UniqueFd fd, std::size_t listener_index) {
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
    fill_peer(conn->fd.get(), peer);
  }
  // Judged on the socket's peer, the proxy in front, as gunicorn judges forwarders.
  conn->parser.set_trusted_forwarder(
      forwarded_allow_.allows_peer(peer.remote_addr, peer.unix_socket));
  if (proxy_mode_ != http::ProxyMode::Off)
    conn->proxy.emplace(proxy_mode_, proxy_allow_.allows_peer(peer.remote_addr, peer.unix_socket));
  if (const tls::TlsContext* context = tls::current()) {
    // gunicorn wraps every listener when certfile is set (README, "TLS"). The handshake
    // starts with the read below and goes on in the loop, under the header deadline.
    conn->tls = context->wrap(conn->fd.get());
    if (!conn->tls) {
      spdlog::error("TLS: cannot start a session for a new connection (out of memory?)");
      return;  // conn goes out of scope: the fd closes
    }
    peer.tls = true;
  }
  conn->state = ConnState::Idle;
  conn->accepted_at = Clock::now();
  conn->deadline = conn->accepted_at + http_.header_timeout();
  conn->fresh = true;
  ++fresh_;
  Connection* raw = conn.get();
  pool_.forget_edge(raw);  // an edge noted for a closed connection at this address
  owned_.emplace(raw, std::move(conn));
  // The request often arrives with the handshake: try it now and save an epoll round trip.
  // The fd joins epoll only when it must wait for bytes (arm) or will be kept alive
  // (dispatch): a connection answered and closed never costs an epoll_ctl.
  apply(raw, http_.on_readable(*raw, 0, stopping_));
}

void EventLoop::on_readable(Connection* conn, std::uint32_t events) {
  // An event can name a connection the pool owns (its fd stays registered while the
  // request runs, and a quiet return is collected only here), or one closed earlier in
  // this batch. Neither is touched: the edge is noted, and the socket re-polled when the
  // connection comes back (Pool, the quiet-return protocol).
  while (!owned_.contains(conn)) {
    if (pool_.note_early_edge(conn)) return;
    collect_returns(false);
  }
  if (conn->state == ConnState::Writing) {
    // Pipelined bytes wait in the socket until the response is written (then re-polled).
    if (events & EPOLLIN) conn->recheck = true;
    write_parked(conn);
    return;
  }
  apply(conn, http_.on_readable(*conn, events, stopping_));
}

void EventLoop::apply(Connection* conn, Step step) {
  switch (step) {
    case Step::Wait:
      if (!arm(conn)) close_connection(conn);  // cannot wait for its bytes: nothing will come
      break;
    case Step::Dispatch: dispatch(conn); break;
    case Step::Close: close_connection(conn); break;
    case Step::None: break;
  }
}

bool EventLoop::arm(Connection* conn) {
  // Edge-triggered, registered once for the connection's life: a new arrival always
  // reports an edge, so waiting for the next request costs no system call. One-shot
  // re-arming cost an epoll_ctl per request.
  // An edge is new bytes only: where the last read stopped before the socket was drained
  // (`recheck`), EPOLL_CTL_MOD re-polls the socket and reports what is already there.
  // A TLS transport may need the socket writable to go on (its handshake flight did not
  // fit), and may hold bytes it already took from the socket: those are read again after
  // this round (run_posted), since no edge will say they are there.
  if (conn->tls_buffered()) posted_.push_back(conn);
  const bool out = conn->io().wants_write() || conn->state == ConnState::Writing;
  const std::uint32_t events = EPOLLIN | EPOLLRDHUP | EPOLLET | (out ? EPOLLOUT : 0u);
  if (!conn->registered) {
    conn->recheck = false;
    conn->armed_events = events;
    conn->registered = poller_.add(conn->io().fd(), events, conn);
    return conn->registered;
  }
  if (!conn->recheck && events == conn->armed_events) return true;
  conn->recheck = false;
  conn->armed_events = events;
  return poller_.modify(conn->io().fd(), events, conn);
}

void EventLoop::run_posted() {
  if (posted_.empty()) return;
  posted_scratch_.swap(posted_);
  // A connection closed (or handed to the pool) since it was posted is not the loop's to
  // read; one closed and replaced at the same address is only read once more, harmlessly.
  for (Connection* conn : posted_scratch_)
    if (owned_.contains(conn) && conn->state != ConnState::Running) on_readable(conn, 0);
  posted_scratch_.clear();
}

void EventLoop::dispatch(Connection* conn) {
  auto it = owned_.find(conn);
  GTHREADD_ASSERT(it != owned_.end(), "dispatching a connection the loop does not own");
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
      open_connections() + 1 > keepalive_slots + static_cast<std::size_t>(settings_.threads))
    req.keep_alive = false;
  // Registered before the pool has it, so a next request sent while this one runs is
  // reported (Pool::note_early_edge). A connection that will close never needs it; one that could
  // not be registered is simply not returned quietly.
  if (req.keep_alive) static_cast<void>(arm(conn));
  pool_.submit(std::move(owned));
  // Wedged (every thread past --request-timeout): a request read on a connection opened
  // before would wait for a thread that is not coming; answered as at the wedge.
  if (wedged_) pool_.answer_queued(http::make_error_response(503));
}

void EventLoop::collect_returns(bool woken) {
  pool_.collect(returned_scratch_, woken);
  for (auto& c : returned_scratch_) on_returned(std::move(c));
  returned_scratch_.clear();
}

Clock::time_point EventLoop::keepalive_deadline() const {
  // Stopping: this response still said keep-alive (its request came before the stop), so
  // the client may be sending the next request right now. Closing at once would cross it
  // on the wire and the client would see its request dropped with no answer; instead a
  // request arriving within a short window is served, with Connection: close (dispatch).
  const auto keepalive = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::seconds(settings_.keepalive));
  return Clock::now() + (stopping_ ? std::min(keepalive, kLastCallWindow) : keepalive);
}

void EventLoop::on_returned(std::unique_ptr<Connection> owned) {
  Connection* conn = owned.get();
  GTHREADD_ASSERT(!owned_.contains(conn), "the loop already owns a connection the pool returned");
  owned_.emplace(conn, std::move(owned));
  // An edge reported while the pool had it was not acted on: re-poll the socket at the
  // next arm().
  if (std::exchange(conn->early_edge, false)) conn->recheck = true;
  if (response_parked(*conn)) {
    begin_writing(conn);
    return;
  }
  after_response(conn);
}

void EventLoop::after_response(Connection* conn) {
  ++served_;
  retire_if_due();
  if (!conn->keep_alive) {
    // Pipelined bytes behind the last answered request would turn our close into a reset
    // that can destroy the response in flight: half-close and drain instead.
    if (conn->buf.size() > conn->request.head_length) {
      http_.begin_linger(*conn);
      apply(conn, Step::Wait);
    } else {
      close_connection(conn);
    }
    return;
  }
  const bool quiet = std::exchange(conn->quiet_return, false);
  GTHREADD_ASSERT(!quiet || conn->buf.empty(), "a quiet return comes back reset, its buffer empty");
  if (!quiet && HttpConnection::reset_for_next(*conn)) conn->released_large = true;
  if (std::exchange(conn->released_large, false)) ++large_released_;
  ++conn->served;
  conn->state = ConnState::Idle;
  conn->deadline = keepalive_deadline();
  if (quiet && !stopping_) {
    // Registered, buffer empty: wait for the next edge (re-polled if one came early).
    apply(conn, Step::Wait);
    return;
  }
  apply(conn, http_.process(*conn, false, stopping_));
}

void EventLoop::reject(Connection* conn, int status, std::string_view reason) {
  http_.reject(*conn, status, reason);
  apply(conn, Step::Wait);  // lingering: drained until EOF or its deadline
}

void EventLoop::end_fresh(Connection& conn) {
  if (!conn.fresh) return;
  conn.fresh = false;
  --fresh_;
}

void EventLoop::close_connection(Connection* conn) {
  GTHREADD_ASSERT(owned_.contains(conn), "closing a connection the loop does not own");
  end_fresh(*conn);
  if (conn->buf.capacity() > HttpConnection::kKeepBuffer ||
      conn->body.capacity() > http::RequestBody::kKeepCapacity)
    ++large_released_;
  // Closing the fd removes it from epoll; the map owns and frees the connection.
  owned_.erase(conn);
  accept_.fds_freed();
}

}  // namespace gthreadd::worker
