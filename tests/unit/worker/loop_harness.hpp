#pragma once
// Drives the real EventLoop, pool and HTTP code over socketpairs, with a stub
// RequestHandler in place of Python: no interpreter, no fork, no listening socket.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gthreadd/core/unique_fd.hpp"
#include "gthreadd/worker/event_loop.hpp"
#include "gthreadd/worker/heartbeat.hpp"
#include "gthreadd/worker/request_handler.hpp"

namespace gthreadd::worker::testing {

using namespace std::chrono_literals;
constexpr auto kDeadline = 20s;  // generous: a shared 2-core machine under a build

// Answers every request with 200 and "<target> <body size>" (or, for /big?n=N, N bytes),
// keeping the connection as the request asks. Requests whose target is held wait in the
// handler, on their pool thread, until released. /stream?n=K answers K pieces of 64 KiB
// like a WSGI iterator: the next piece only once the last one was written, parking the
// rest (a PendingResponse) when the socket is full; each stream "closes" once.
class StubHandler final : public RequestHandler {
 public:
  static constexpr std::size_t kPiece = 64 * 1024;
  RequestOutcome handle(const http::Request& request, http::RequestBody& body,
                        const wsgi::PeerInfo&, wsgi::ResponseWriter& writer) override {
    const std::string target(request.target);
    {
      std::unique_lock lock(mutex_);
      started_.push_back(target);
      changed_.notify_all();
      changed_.wait(lock, [&] { return !held_.contains(target); });
    }
    if (target.rfind("/stream?n=", 0) == 0) {
      auto pending = std::make_unique<Stream>();
      pending->left = std::stoul(target.substr(10));
      pending->keep_alive = request.keep_alive;
      std::string head =
          "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(pending->left * kPiece) +
          "\r\n\r\n";
      const iovec iov{head.data(), head.size()};
      if (!writer.send(std::span<const iovec>(&iov, 1))) pending->gone = true;
      return go_on(std::move(pending), writer);
    }
    std::string content = target + " " + std::to_string(body.size());
    if (target.rfind("/big?n=", 0) == 0) content.assign(std::stoul(target.substr(7)), 'x');
    std::string response =
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(content.size()) + "\r\n";
    if (!request.keep_alive) response += "Connection: close\r\n";
    response += "\r\n" + content;
    const iovec iov{response.data(), response.size()};
    RequestOutcome outcome;
    outcome.keep_alive = writer.send(std::span<const iovec>(&iov, 1)) && request.keep_alive;
    outcome.status = 200;
    outcome.body_bytes = content.size();
    {
      std::lock_guard lock(mutex_);
      ++finished_;
      changed_.notify_all();
    }
    return outcome;
  }

  RequestOutcome resume(std::unique_ptr<PendingResponse> pending, bool client_gone,
                        std::uint64_t /*unsent*/, wsgi::ResponseWriter& writer) override {
    std::unique_ptr<Stream> stream(static_cast<Stream*>(pending.release()));
    stream->gone = stream->gone || client_gone;
    {
      std::lock_guard lock(mutex_);
      ++resumes_;
    }
    return go_on(std::move(stream), writer);
  }

  void log_answer_without_app(const http::Request&, const wsgi::PeerInfo&, int status,
                              std::uint64_t, std::chrono::microseconds) override {
    std::lock_guard lock(mutex_);
    answered_without_app_.push_back(status);
  }

  void hold(const std::string& target) {
    std::lock_guard lock(mutex_);
    held_.insert(target);
  }
  void release(const std::string& target) {
    std::lock_guard lock(mutex_);
    held_.erase(target);
    changed_.notify_all();
  }
  // Streams ended (each once), and how many of them because the client went away.
  std::size_t streams_closed() {
    std::lock_guard lock(mutex_);
    return streams_closed_;
  }
  std::size_t streams_gone() {
    std::lock_guard lock(mutex_);
    return streams_gone_;
  }
  std::size_t resumes() {
    std::lock_guard lock(mutex_);
    return resumes_;
  }
  bool wait_streams_closed(std::size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kDeadline, [&] { return streams_closed_ >= count; });
  }
  // Waits until `count` requests entered the handler; false at the deadline.
  bool wait_started(std::size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kDeadline, [&] { return started_.size() >= count; });
  }
  std::vector<std::string> started() {
    std::lock_guard lock(mutex_);
    return started_;
  }
  std::vector<int> answered_without_app() {
    std::lock_guard lock(mutex_);
    return answered_without_app_;
  }

 private:
  struct Stream final : PendingResponse {
    std::size_t left = 0;
    bool keep_alive = false;
    bool gone = false;
  };

  // Writes pieces until the writer parks one (then the rest waits for resume) or none is
  // left (then the stream "closes", once).
  RequestOutcome go_on(std::unique_ptr<Stream> stream, wsgi::ResponseWriter& writer) {
    const std::string piece(kPiece, 's');
    while (!stream->gone && stream->left > 0) {
      const iovec iov{const_cast<char*>(piece.data()), piece.size()};
      if (!writer.send(std::span<const iovec>(&iov, 1))) stream->gone = true;
      --stream->left;
      if (writer.parking() && !writer.parking()->empty() && stream->left > 0) {
        RequestOutcome parked;
        parked.pending = std::move(stream);
        return parked;
      }
    }
    RequestOutcome outcome;
    outcome.keep_alive = stream->keep_alive && !stream->gone;
    outcome.status = 200;
    std::lock_guard lock(mutex_);
    ++streams_closed_;
    if (stream->gone) ++streams_gone_;
    changed_.notify_all();
    return outcome;
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::set<std::string> held_;
  std::vector<std::string> started_;
  std::size_t finished_ = 0;
  std::size_t streams_closed_ = 0;
  std::size_t streams_gone_ = 0;
  std::size_t resumes_ = 0;
  std::vector<int> answered_without_app_;
};

struct Response {
  int status = 0;  // 0: none (EOF or the deadline)
  std::string head;
  std::string body;
  [[nodiscard]] bool closes() const { return head.find("Connection: close") != std::string::npos; }
};

// The client end of a socketpair, blocking with a receive deadline.
class Client {
 public:
  explicit Client(core::UniqueFd fd) : fd_(std::move(fd)) {
    const int flags = ::fcntl(fd_.get(), F_GETFL);
    ::fcntl(fd_.get(), F_SETFL, flags & ~O_NONBLOCK);
    timeval tv{static_cast<time_t>(kDeadline.count()), 0};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  bool get(const std::string& target, bool keep_alive = true) {
    return send("GET " + target + " HTTP/1.1\r\nHost: t\r\n" +
                (keep_alive ? "" : "Connection: close\r\n") + "\r\n");
  }
  void shutdown_write() { ::shutdown(fd_.get(), SHUT_WR); }
  // The client goes away without reading what was sent to it.
  void close() { fd_ = core::UniqueFd(); }
  // The next response: head, then Content-Length bytes of body.
  Response read_response() {
    Response r;
    std::size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return r;
    r.head = pending_.substr(0, end + 4);
    pending_.erase(0, end + 4);
    const auto cl = r.head.find("Content-Length: ");
    const std::size_t length = cl == std::string::npos ? 0 : std::stoul(r.head.substr(cl + 16));
    while (pending_.size() < length)
      if (!fill()) return r;
    r.body = pending_.substr(0, length);
    pending_.erase(0, length);
    r.status = std::stoi(r.head.substr(9, 3));
    return r;
  }
  // True when the server closed (EOF) with nothing more sent.
  bool reads_eof() { return pending_.empty() && !fill() && eof_; }
  [[nodiscard]] int fd() const { return fd_.get(); }

 private:
  bool fill() {
    char buf[65536];
    const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n > 0) {
      pending_.append(buf, static_cast<std::size_t>(n));
      return true;
    }
    eof_ = n == 0;
    return false;
  }
  core::UniqueFd fd_;
  std::string pending_;
  bool eof_ = false;
};

// One worker's loop on its own thread, its connections adopted before it runs.
class LoopHarness {
 public:
  explicit LoopHarness(int threads) : heartbeat_("/tmp") {
    settings.threads = threads;
    settings.workers = 1;
    settings.graceful_timeout = 10;
    settings.keepalive = 5;
    settings.timeout = 0;
    config::BindAddress address;
    address.kind = config::BindAddress::Kind::Unix;
    address.path = "/test.sock";
    listeners_.emplace_back();
    listeners_.back().address = address;
    listeners_.back().is_unix = true;
  }
  ~LoopHarness() {
    if (thread_.joinable()) {
      stop();
      thread_.join();
    }
  }

  // Creates the loop with `clients` connections and runs it.
  std::vector<Client> start(std::size_t clients) {
    parallelism_ =
        std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                              static_cast<std::size_t>(settings.threads) + 1);
    arena_ = std::make_unique<tbb::task_arena>(settings.threads, 0);
    sigset_t handled;
    sigemptyset(&handled);
    sigaddset(&handled, SIGTERM);
    signal_fd_ = core::UniqueFd(::signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC));
    loop_ = std::make_unique<EventLoop>(settings, listeners_, handler, heartbeat_, *arena_,
                                        signal_fd_.get());
    std::vector<Client> out;
    for (std::size_t i = 0; i < clients; ++i) {
      int pair[2];
      ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair);
      loop_->adopt(core::UniqueFd(pair[0]), 0);
      out.emplace_back(core::UniqueFd(pair[1]));
    }
    thread_ = std::thread([this] {
      exit_code_ = loop_->run();
      std::lock_guard lock(mutex_);
      finished_ = true;
      done_.notify_all();
    });
    return out;
  }
  // SIGTERM, to the loop's own thread: it reads it from its signalfd (the mask blocks it).
  void stop() { ::pthread_kill(thread_.native_handle(), SIGTERM); }
  bool wait_finished(std::chrono::milliseconds within = kDeadline) {
    std::unique_lock lock(mutex_);
    return done_.wait_for(lock, within, [&] { return finished_; });
  }
  bool finished() {
    std::lock_guard lock(mutex_);
    return finished_;
  }
  int exit_code() const { return exit_code_; }
  const Heartbeat& heartbeat() const { return heartbeat_; }

  config::Settings settings;
  StubHandler handler;

 private:
  Heartbeat heartbeat_;
  std::vector<net::Listener> listeners_;
  std::unique_ptr<tbb::global_control> parallelism_;
  std::unique_ptr<tbb::task_arena> arena_;
  core::UniqueFd signal_fd_;
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable done_;
  bool finished_ = false;
  int exit_code_ = -1;
};

}  // namespace gthreadd::worker::testing
