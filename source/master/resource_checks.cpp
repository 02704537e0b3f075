#include "gthreadd/master/resource_checks.hpp"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "gthreadd/worker/body_budget.hpp"

namespace gthreadd::master {

void fit_fd_limit(const config::Settings& settings) {
  // A connection, its spilled body at worst, and a margin for listeners, logs, epoll, the
  // heartbeat and the app's own files (Python modules, database sockets).
  const rlim_t need = static_cast<rlim_t>(settings.worker_connections) * 2 +
                      static_cast<rlim_t>(settings.threads) + 256;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY ||
      limit.rlim_cur >= need)
    return;
  const rlim_t want = limit.rlim_max == RLIM_INFINITY ? need : std::min(need, limit.rlim_max);
  if (want > limit.rlim_cur) {
    rlimit raised = limit;
    raised.rlim_cur = want;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      spdlog::debug("Raised the open-file limit from {} to {}", limit.rlim_cur, want);
      limit = raised;
    }
  }
  if (limit.rlim_cur < need)
    spdlog::warn(
        "--worker-connections {} needs about {} file descriptors per worker, but the limit is {} "
        "(hard limit {}): a worker at the limit stops accepting until connections close. "
        "Raise it (ulimit -n, LimitNOFILE= in the systemd unit) or lower --worker-connections.",
        settings.worker_connections, need, limit.rlim_cur, limit.rlim_max);
}

std::string check_body_tmp_dir(const config::Settings& settings) {
  const std::string dir = worker::body_tmp_dir(settings);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return "--body-tmp-dir " + dir + ": " + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return "--body-tmp-dir " + dir + ": not a directory";
  return {};
}

}  // namespace gthreadd::master
