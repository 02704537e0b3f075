#pragma once
// The master's metrics endpoint (--metrics-bind): its own listening socket and one thread
// that accepts, answers one scrape per connection and closes (scrape_http.hpp). No Python,
// no lock the workers use: the answer is rendered from the shared block (render callback).
// A client is served within kScrapeDeadline, so a slow one delays the next scrape by at
// most that. The destructor stops the thread at once (a wake pipe) and joins it.
//
// When the address cannot be bound (the port still held by the master an upgrade replaces,
// USR2), the endpoint logs it once and retries every second in its thread, so the new
// master takes the port over when the old one exits; the server keeps serving meanwhile.
//
// fork: the master forks workers while this thread runs. The thread holds no lock a worker
// needs (it logs only when it binds or fails to, and the block's lock is the master's), and
// the forked worker calls close_in_child() to drop the inherited sockets.
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "gthreadd/config/bind_address.hpp"
#include "gthreadd/core/unique_fd.hpp"

namespace gthreadd::metrics {

class Endpoint {
 public:
  using Render = std::function<std::string()>;
  // `error`: false for information ("listening at"), true for a failure to bind.
  using Log = std::function<void(bool error, const std::string& line)>;

  // Binds `address` (as --bind reads it: HOST:PORT, [IPv6]:PORT, unix:PATH, fd://N) and
  // starts the thread. Returns nullptr with `error` when the thread or the wake pipe cannot
  // be made; a failed bind is retried in the thread (see above).
  static std::unique_ptr<Endpoint> start(const config::BindAddress& address, Render render, Log log,
                                         std::string& error);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // The bound address ("http://127.0.0.1:9100"), empty until bound; any thread.
  [[nodiscard]] std::string url() const;
  // In a forked worker: close the inherited fds; the thread does not exist there.
  void close_in_child() noexcept;

 private:
  Endpoint(config::BindAddress address, Render render, Log log);
  void run();
  bool try_bind(bool log_failure);
  void serve(int client);

  config::BindAddress address_;
  Render render_;
  Log log_;
  core::UniqueFd listener_;  // the endpoint thread's, once bound
  std::string unix_path_;    // unlinked on destruction when we created it
  core::UniqueFd wake_read_, wake_write_;
  mutable std::mutex url_mutex_;
  std::string url_;
  std::thread thread_;
};

}  // namespace gthreadd::metrics
