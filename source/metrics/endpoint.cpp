#include "gthreadd/metrics/endpoint.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "gthreadd/config/settings.hpp"
#include "gthreadd/metrics/scrape_http.hpp"
#include "gthreadd/net/listener.hpp"

namespace gthreadd::metrics {
namespace {

constexpr int kRebindIntervalMs = 1000;
constexpr std::chrono::milliseconds kLingerTime{500};

}  // namespace

std::unique_ptr<Endpoint> Endpoint::start(const config::BindAddress& address, Render render,
                                          Log log, std::string& error) {
  std::unique_ptr<Endpoint> endpoint(new Endpoint(address, std::move(render), std::move(log)));
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    error = std::string("metrics endpoint: pipe: ") + std::strerror(errno);
    return nullptr;
  }
  endpoint->wake_read_.reset(pipe_fds[0]);
  endpoint->wake_write_.reset(pipe_fds[1]);
  endpoint->try_bind(true);
  if (!endpoint->launch(error)) return nullptr;
  return endpoint;
}

bool Endpoint::launch(std::string& error) {
  // The master reads its signals from a signalfd with them blocked; a thread created with
  // any unblocked would take them instead and die of SIGTERM. Block all for the new thread.
  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    error = std::string("metrics endpoint: cannot start its thread: ") + e.what();
    return false;
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return true;
}

void Endpoint::pause() noexcept {
  if (!thread_.joinable()) return;
  const char byte = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_write_.get(), &byte, 1);
  thread_.join();
  char drain[64];
  while (::read(wake_read_.get(), drain, sizeof drain) > 0) {
  }
}

void Endpoint::resume() {
  if (thread_.joinable()) return;
  std::string error;
  if (!launch(error) && log_) log_(true, error + "; /metrics is not served until a restart");
}

Endpoint::Endpoint(config::BindAddress address, Render render, Log log)
    : address_(std::move(address)), render_(std::move(render)), log_(std::move(log)) {}

Endpoint::~Endpoint() {
  pause();
  if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
}

std::string Endpoint::url() const {
  std::lock_guard lock(url_mutex_);
  return url_;
}

void Endpoint::close_in_child() noexcept {
  listener_.reset();
  wake_read_.reset();
  wake_write_.reset();
  unix_path_.clear();
  // The thread object names a thread of the master: never join or detach it here. The
  // worker _exit()s without running this object's destructor.
}

// net::bind_listeners binds as --bind does (non-blocking, CLOEXEC, SO_REUSEADDR, a stale
// unix socket replaced); one attempt here, the thread retries.
bool Endpoint::try_bind(bool log_failure) {
  config::Settings one;
  one.bind = {address_};
  std::string failure;
  try {
    net::BindRetry once{
        .attempts = 1, .delay_ms = 0, .log = [&](bool debug, const std::string& line) {
          if (!debug && failure.empty()) failure = line;
        }};
    auto listeners = net::bind_listeners(one, once);
    if (listeners.empty()) throw std::runtime_error("no socket");
    net::Listener& l = listeners.front();
    if (l.is_unix && !l.inherited && l.address.kind == config::BindAddress::Kind::Unix)
      unix_path_ = l.address.path;
    {
      std::lock_guard lock(url_mutex_);
      url_ = l.url();
    }
    listener_ = std::move(l.fd);
    if (log_) log_(false, "Metrics endpoint listening at: " + url() + "/metrics");
    return true;
  } catch (const std::exception& e) {
    if (log_failure && log_) {
      log_(true, "metrics endpoint: " + (failure.empty() ? std::string(e.what()) : failure) +
                     "; retrying every second (--metrics-bind)");
    }
    return false;
  }
}

void Endpoint::run() {
  for (;;) {
    pollfd fds[2] = {{wake_read_.get(), POLLIN, 0}, {listener_.get(), POLLIN, 0}};
    const int count = listener_ ? 2 : 1;
    const int n = ::poll(fds, static_cast<nfds_t>(count), listener_ ? -1 : kRebindIntervalMs);
    if (n < 0 && errno != EINTR) return;
    if (fds[0].revents != 0) return;  // the destructor's wake-up
    if (!listener_) {
      try_bind(false);
      continue;
    }
    if (n > 0 && (fds[1].revents & POLLIN)) {
      core::UniqueFd client(
          ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (client) serve(client.get());
    }
  }
}

void Endpoint::serve(int client) {
  const auto deadline = std::chrono::steady_clock::now() + kScrapeDeadline;
  int status = 0;
  const std::string head = read_request_head(client, deadline, status);
  std::string answer;
  if (!head.empty()) {
    answer = route_scrape(head, render_);
  } else if (status != 0) {
    answer = error_response(status);
  } else {
    return;
  }
  // A short grace beyond the read deadline for writing: the render may be large and the
  // client must have time to read it, but never long.
  if (!send_all(client, answer,
                std::max(deadline, std::chrono::steady_clock::now() + kScrapeDeadline / 2)))
    return;
  // Lingering close (RFC 9112 section 9.6): closing with unread input (the rest of an
  // oversized head) sends a RST that can destroy the response before the client reads it.
  // Half-close, then discard what still comes, briefly and boundedly.
  ::shutdown(client, SHUT_WR);
  discard_input(client, std::chrono::steady_clock::now() + kLingerTime);
}

}  // namespace gthreadd::metrics
