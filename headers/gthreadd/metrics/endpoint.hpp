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
// fork: the master forks only while it is single-threaded (docs/architecture.md, "Fork only
// while single-threaded"): pause() stops and joins this thread before each fork, resume()
// starts it again after, in the parent. A fork while it ran could leave a lock it held
// (the C library's, libstdc++'s, the block's fold mutex) locked for good in the child: a
// worker hung at boot about 1 start in 60 under the tests, and ThreadSanitizer refuses such
// forks outright. A scrape being served finishes first (at most kScrapeDeadline and a half,
// for a client that stalls), the connections that arrive meanwhile wait in the backlog. The
// forked worker calls close_in_child() to drop the inherited sockets.
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
  // Master thread, around a fork: stop and join the thread / start it again. pause() on a
  // paused endpoint and resume() on a running one do nothing.
  void pause() noexcept;
  void resume();

 private:
  Endpoint(config::BindAddress address, Render render, Log log);
  bool launch(std::string& error);
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
