#include "gthreadd/master/control_server.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace gthreadd::master {
namespace {

// Per serve() call: bytes read from one client and requests answered for it, so a client
// that floods the socket shares the master with its loop instead of holding it.
constexpr std::size_t kReadPerServe = kMaxRequest + 4;
constexpr int kAnswersPerServe = 16;

std::string errno_text(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

bool fill_address(const std::string& path, sockaddr_un& addr) {
  addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return true;
}

// Whether a server answers on the socket at `path` (a live one, not a stale file).
bool answered(const sockaddr_un& addr) {
  core::UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe) return false;
  return ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
}

// What is at `path` now: nothing, a socket to replace, or a reason to refuse.
std::string clear_path(const std::string& path, const sockaddr_un& addr, bool take_over) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? std::string() : errno_text("control socket " + path, errno);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return "control socket " + path + ": the file exists and is not a socket; not replacing it";
  }
  // gunicorn unlinks whatever is there; a second server given the same path would then
  // take the first one's control away without a word. Only a socket nobody answers on
  // (left by a killed server) is replaced, or the old master's during a USR2 upgrade.
  if (!take_over && answered(addr)) {
    return "control socket " + path +
           " is in use by another running server; give each server its own --control-socket";
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return errno_text("control socket " + path + ": cannot remove the stale socket", errno);
  return {};
}

}  // namespace

std::unique_ptr<ControlServer> ControlServer::open(const Options& options, std::string& error) {
  sockaddr_un addr{};
  if (!fill_address(options.path, addr)) {
    error = "control socket " + options.path + ": the path is longer than a unix socket allows (" +
            std::to_string(sizeof addr.sun_path - 1) + " bytes)";
    return nullptr;
  }
  if (error = clear_path(options.path, addr, options.take_over); !error.empty()) return nullptr;
  core::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return error = errno_text("control socket", errno), nullptr;
  // The file is created 0600 (never wider for a moment), then given the configured mode,
  // as gunicorn chmods it after bind.
  const mode_t old_umask = ::umask(0177);
  const int bound = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int bind_errno = errno;
  ::umask(old_umask);
  if (bound != 0) return error = errno_text("control socket " + options.path, bind_errno), nullptr;
  struct stat st {};
  if (::chmod(options.path.c_str(), static_cast<mode_t>(options.mode)) != 0 ||
      ::listen(fd.get(), static_cast<int>(kMaxClients)) != 0 ||
      ::stat(options.path.c_str(), &st) != 0) {
    error = errno_text("control socket " + options.path, errno);
    ::unlink(options.path.c_str());
    return nullptr;
  }
  core::UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd.get();
  if (!epoll || ::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) {
    error = errno_text("control socket epoll", errno);
    ::unlink(options.path.c_str());
    return nullptr;
  }
  return std::unique_ptr<ControlServer>(
      new ControlServer(options.path, std::move(fd), std::move(epoll), st.st_dev, st.st_ino));
}

ControlServer::ControlServer(std::string path, core::UniqueFd listen, core::UniqueFd epoll,
                             dev_t dev, ino_t ino)
    : path_(std::move(path)),
      listen_(std::move(listen)),
      epoll_(std::move(epoll)),
      dev_(dev),
      ino_(ino) {}

ControlServer::~ControlServer() {
  if (!listen_) return;  // a worker's copy: the file is the master's
  clients_.clear();
  listen_.reset();
  // Only our own file: after a USR2 upgrade the new master has replaced it with its own.
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_)
    ::unlink(path_.c_str());
}

void ControlServer::close_in_child() noexcept {
  clients_.clear();
  listen_.reset();
  epoll_.reset();
}

void ControlServer::serve(const ControlHandler& handler) {
  if (!listen_) return;
  const auto now = Clock::now();
  epoll_event events[32];
  const int n = ::epoll_wait(epoll_.get(), events, 32, 0);
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    if (fd == listen_.get()) {
      accept_clients(now);
      continue;
    }
    auto it = clients_.find(fd);
    if (it == clients_.end()) continue;
    Client& c = it->second;
    bool keep = true;
    if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
      keep = on_readable(c, handler, now);
    if (keep) keep = flush(c, now);
    if (!keep) drop(fd);
  }
  expire(now);
}

void ControlServer::accept_clients(Clock::time_point now) {
  for (;;) {
    core::UniqueFd fd(::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        spdlog::warn("Control socket: accept: {}", std::strerror(errno));
      return;
    }
    if (clients_.size() >= kMaxClients && !make_room()) continue;  // every slot is busy
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd.get();
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) continue;
    const int key = fd.get();
    Client& c = clients_[key];
    c.fd = std::move(fd);
    c.since = now;
    c.events = ev.events;
  }
}

// Full: the connection idle longest (no request begun, no answer pending) makes way.
bool ControlServer::make_room() {
  auto victim = clients_.end();
  for (auto it = clients_.begin(); it != clients_.end(); ++it) {
    if (it->second.busy) continue;
    if (victim == clients_.end() || it->second.since < victim->second.since) victim = it;
  }
  if (victim == clients_.end()) return false;
  clients_.erase(victim);
  return true;
}

bool ControlServer::on_readable(Client& c, const ControlHandler& handler, Clock::time_point now) {
  char buf[16384];
  std::size_t taken = 0;
  while (taken < kReadPerServe && !c.closing) {
    const ssize_t got = ::read(c.fd.get(), buf, sizeof buf);
    if (got > 0) {
      if (!c.busy) c.busy = true, c.busy_since = now;
      c.reader.feed({buf, static_cast<std::size_t>(got)});
      taken += static_cast<std::size_t>(got);
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    c.closing = true;  // EOF (answer what was sent, then close) or an error
    if (got < 0) return false;
  }
  std::string payload;
  for (int answered = 0; answered < kAnswersPerServe; ++answered) {
    const auto status = c.reader.next(payload);
    if (status == FrameReader::Status::Incomplete) break;
    if (status == FrameReader::Status::TooLarge) {
      // Garbage, or no length prefix: nothing after it can be framed, so answer and close.
      c.out += encode_frame(
          make_error(0, "Invalid message: a request is a 4-byte big-endian length and at most " +
                            std::to_string(kMaxRequest) + " bytes of JSON"));
      c.closing = true;
      break;
    }
    answer(c, payload, handler);
  }
  if (!c.reader.partial() && c.out.empty()) c.busy = false;
  return true;
}

void ControlServer::answer(Client& c, const std::string& payload, const ControlHandler& handler) {
  std::string error;
  const auto request = Json::parse(payload, error);
  const Json id = request && request->find("id") ? *request->find("id") : Json(0);
  if (!request) {
    c.out += encode_frame(make_error(id, "Invalid message: " + error));
    return;
  }
  auto words = command_words(*request, error);
  if (!error.empty()) {
    c.out += encode_frame(make_error(id, error));
    return;
  }
  ControlReply reply;
  try {
    reply = handler(words);
  } catch (const std::exception& e) {
    reply = {false, {}, std::string("Command failed: ") + e.what()};
  }
  c.out += encode_frame(reply.ok ? make_response(id, std::move(reply.data))
                                 : make_error(id, reply.error));
}

bool ControlServer::flush(Client& c, Clock::time_point now) {
  while (!c.out.empty()) {
    const ssize_t put = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (put > 0) {
      c.out.erase(0, static_cast<std::size_t>(put));
      continue;
    }
    if (put < 0 && errno == EINTR) continue;
    if (put < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return false;
  }
  if (c.out.empty() && c.closing) return false;
  if (c.out.empty() && !c.reader.partial()) c.busy = false, c.since = now;
  // A closing client is only written to: a peer that half-closed stays readable (RDHUP) and
  // would wake the master's loop over and over.
  const bool want_write = !c.out.empty();
  const std::uint32_t events =
      (c.closing ? 0u : EPOLLIN | EPOLLRDHUP) | (want_write ? EPOLLOUT : 0u);
  if (events != c.events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = c.fd.get();
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
    c.events = events;
  }
  if (want_write && !c.busy) c.busy = true, c.busy_since = now;
  return true;
}

void ControlServer::expire(Clock::time_point now) {
  std::vector<int> late;
  for (const auto& [fd, c] : clients_) {
    if (c.busy ? now - c.busy_since > kRequestTimeout : now - c.since > kIdleTimeout)
      late.push_back(fd);
  }
  for (const int fd : late) {
    spdlog::debug("Control socket: closing a client that was {} too long",
                  clients_[fd].busy ? "slow" : "idle");
    drop(fd);
  }
}

void ControlServer::drop(int fd) { clients_.erase(fd); }

}  // namespace gthreadd::master
